"""The seam between a connector's `Credentials` (a vault reference) and the AWS credentials boto3 signs with.

A `CredentialsResolver` turns the reference (`srn:vault::ORG:TYPE:ALIAS`) into a boto3 `Session`. `serve`
gives its connectors `roles.VaultCredentials`, which resolves it through the vault: a cross-account role
is assumed through STS, with `RefreshableCredentials` that botocore renews before they expire by itself;
a `secretdoc` holds access keys (roles/README.md). What cannot be resolved is a `ConnectorFailed`, raised
by the call that needed it. `default_chain` ignores the reference and gives a session on boto3's default
credential chain (environment, profile, instance or task role): the executor's default, for a connector
run on its own.

    >>> executor = ConnectorExecutor()                                         # default_chain
    >>> executor = ConnectorExecutor(credentials=VaultCredentials(vault, RoleSessions(vault)))
    >>> executor = ConnectorExecutor(credentials=lambda reference: boto3.session.Session(
    ...     aws_access_key_id="local", aws_secret_access_key="local"))         # a local service in tests
"""

from __future__ import annotations

from typing import Protocol

import boto3


class CredentialsResolver(Protocol):
    def __call__(self, reference: str) -> boto3.session.Session:
        """A session that signs with the credentials `reference` names."""
        ...


def default_chain(reference: str) -> boto3.session.Session:
    """boto3's default credential chain, whatever the reference."""
    return boto3.session.Session()
