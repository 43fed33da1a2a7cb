"""A connector's `Credentials` resolved through the vault: the `CredentialsResolver` `serve` gives its
connectors (connectors/credentials.py).

    >>> executor = ConnectorExecutor(credentials=VaultCredentials(vault, RoleSessions(vault)))

- `cross-account-role` (and `aws-cross-account-role`): the role is assumed through STS, renewed by
  botocore before it expires (roles/sessions.py), in `sts_region`, boto3's default region or us-east-1.
- `secretdoc`: a JSON object of access keys, in the names AWS gives them (IAM's CreateAccessKey, STS):
  `{"AccessKeyId": "AKIA...", "SecretAccessKey": "...", "SessionToken": "..."}`, `SessionToken` only
  for temporary keys; any other field is refused, so a misspelt one is not silently dropped. The keys
  are read when the connector's client is made (its first call for a service and region): rotated
  keys are read after a restart.

Whatever cannot be resolved is a `ConnectorFailed` with the vault's words (`SecretNotFound`,
`InvalidSecretReference`, `InvalidSecretValue`, `VaultUnavailable`) or STS's (`AssumeRoleDenied`, ...),
raised by the call that needed it, so the agent is told as for any failed connector.
"""

from __future__ import annotations

import threading
from typing import Any

import boto3

from connectors.errors import ConnectorFailed
from roles.errors import CredentialsUnavailable
from roles.lookup import lookup
from roles.sessions import RoleSessions
from vault import ROLE_TYPES, SECRETDOC, SecretDoc, Vault

_WHERE = "the connector's Credentials"
_KEYS = ("AccessKeyId", "SecretAccessKey")
_OPTIONAL = ("SessionToken",)
_SHAPE = '{"AccessKeyId": "...", "SecretAccessKey": "..."}, with "SessionToken" for temporary keys'


class VaultCredentials:
    """`CredentialsResolver`: a connector's `Credentials` reference to a boto3 session signed as it says."""

    def __init__(self, vault: Vault, roles: RoleSessions, *, sts_region: str | None = None) -> None:
        self._vault = vault
        self._roles = roles
        self._sts_region = sts_region or boto3.session.Session().region_name or "us-east-1"
        self._role_sessions: dict[str, boto3.session.Session] = {}
        self._lock = threading.Lock()

    def __call__(self, reference: str) -> boto3.session.Session:
        try:
            value = lookup(self._vault, reference, (*ROLE_TYPES, SECRETDOC), where=_WHERE)
            if isinstance(value, SecretDoc):
                return boto3.session.Session(**access_keys(reference, value))
        except CredentialsUnavailable as failure:
            raise ConnectorFailed(failure.code, failure.message, retryable=failure.retryable) from None
        return self._role_session(reference)

    def _role_session(self, reference: str) -> boto3.session.Session:
        # One session per role, so a connector's Translate and SES clients, and every region's, renew together.
        with self._lock:
            if reference not in self._role_sessions:
                self._role_sessions[reference] = self._roles.for_connectors(reference, self._sts_region)
            return self._role_sessions[reference]


def access_keys(reference: str, secretdoc: SecretDoc) -> dict[str, str | None]:
    """The access keys a `secretdoc` holds, as boto3's session arguments; `CredentialsUnavailable` naming
    the reference and the field when the document is not a set of keys (never a value)."""
    document: dict[str, Any] = secretdoc.document
    unknown = sorted(set(document) - {*_KEYS, *_OPTIONAL})
    if unknown:
        raise CredentialsUnavailable(
            reference, "InvalidSecretValue", f"{reference}: unknown field {unknown[0]!r}; access keys are {_SHAPE}"
        )
    for name in (*_KEYS, *[name for name in _OPTIONAL if name in document]):
        if not isinstance(document.get(name), str) or not document[name]:
            raise CredentialsUnavailable(
                reference, "InvalidSecretValue", f"{reference}: {name} must be a string that is not empty; {_SHAPE}"
            )
    return {
        "aws_access_key_id": document["AccessKeyId"],
        "aws_secret_access_key": document["SecretAccessKey"],
        "aws_session_token": document.get("SessionToken"),
    }
