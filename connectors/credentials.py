"""The seam between a connector's `Credentials` (a vault reference) and the AWS credentials boto3 signs with.

A `CredentialsResolver` turns the reference (`srn:vault::ORG:TYPE:ALIAS`) into a boto3 `Session`.
Until the vault exists (issue 10), `default_chain` ignores the reference and gives a session on
boto3's default credential chain (environment, profile, instance or task role). The vault will pass
its own resolver: one that reads the reference's cross-account role and returns a session whose
botocore credentials are `RefreshableCredentials` from STS AssumeRole, which botocore renews before
they expire by itself.

    >>> executor = ConnectorExecutor()                                   # default_chain
    >>> executor = ConnectorExecutor(credentials=vault.session_for)      # later
    >>> executor = ConnectorExecutor(credentials=lambda reference: boto3.session.Session(
    ...     aws_access_key_id="local", aws_secret_access_key="local"))   # a local service in tests
"""

from __future__ import annotations

from typing import Protocol

import boto3


class CredentialsResolver(Protocol):
    def __call__(self, reference: str) -> boto3.session.Session:
        """A session that signs with the credentials `reference` names."""
        ...


def default_chain(reference: str) -> boto3.session.Session:
    """boto3's default credential chain, whatever the reference: the stand-in until the vault exists."""
    return boto3.session.Session()
