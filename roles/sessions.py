"""boto3 sessions signed by an assumed cross-account role, renewed by botocore before they expire.

    >>> roles = RoleSessions(vault)
    >>> session = roles.for_connect("srn:vault::acme:aws-cross-account-role:connect", "eu-west-2")
    >>> RegionClients.create("eu-west-2", session=session)      # nothing assumed yet

The credentials are botocore's `DeferredRefreshableCredentials`, the class botocore's own assume-role
provider returns: the role is assumed at the first signed call, and again whenever the credentials
are within 15 minutes of their end (callers keep signing with the old ones meanwhile; only in the last
10 minutes do they wait for the new). Every client of the session shares the one credentials object,
so a region's connect and connectparticipant clients renew together, and a live chat never notices.
No timer of ours: botocore checks at each call.

A role that cannot be assumed surfaces at that first call, on the caller's thread, as the caller's own
error type: `for_connect` raises `CredentialsRefused` (or `RetryableError`, for STS throttled or out of
reach) from Amazon Connect calls, so a conversation hands back as for any refused chat;
`for_connectors` raises `ConnectorFailed`, which a connector's caller already handles.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import boto3
import botocore.loaders
import botocore.session
from botocore.config import Config
from botocore.credentials import CredentialProvider, CredentialResolver, DeferredRefreshableCredentials

from connect_client import CredentialsRefused, RetryableError
from connectors.errors import ConnectorFailed
from roles.assume import SESSION_SECONDS, RoleAssumer
from roles.errors import CredentialsUnavailable
from vault import Vault

Refresh = Callable[[], dict[str, str]]

STS_CONFIG = Config(connect_timeout=5, read_timeout=10, retries={"mode": "standard", "total_max_attempts": 3})

_METHOD = "custom-vault-role"


def default_sts_client(region: str, endpoint_url: str | None = None) -> Any:
    """STS in `region` (at `endpoint_url`, if given: a local Amazon Connect), signed with the service's
    own credentials (boto3's default chain)."""
    return boto3.session.Session().client("sts", region_name=region, endpoint_url=endpoint_url, config=STS_CONFIG)


class RoleSessions:
    """Sessions signed by the roles vault references name. Each role is assumed through STS in the
    region it serves (a failover region does not depend on the primary's STS), with the service's own
    credentials; `sts_client(region)` makes that STS client (tests give moto's), and `clock` is what
    botocore reads to know how long the credentials have left (epoch seconds; tests move it on)."""

    def __init__(
        self,
        vault: Vault,
        *,
        sts_client: Callable[[str], Any] = default_sts_client,
        duration_seconds: int = SESSION_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._vault = vault
        self._sts_client = sts_client
        self._duration = duration_seconds
        self._clock = clock
        self._sts: dict[str, Any] = {}
        self._lock = threading.Lock()

    def assumer(self, reference: str, region: str, *, where: str = "the worker's Secret") -> RoleAssumer:
        """What assumes `reference`'s role through STS in `region` (`doctor` may call it to check a role)."""
        sts = self._sts_in(region)
        return RoleAssumer(self._vault, reference, sts, where=where, duration_seconds=self._duration, clock=self._clock)

    def for_connect(self, reference: str, region: str) -> boto3.session.Session:
        """A session for a region's Amazon Connect clients, signed with the role of the worker's `Secret`."""
        return refreshable_session(_raising_connect_errors(self.assumer(reference, region)), clock=self._clock)

    def for_connectors(self, reference: str, region: str) -> boto3.session.Session:
        """A session for connectors' calls, signed with the role of the connector's `Credentials`."""
        assumer = self.assumer(reference, region, where="the connector's Credentials")
        return refreshable_session(_raising_connector_failures(assumer), clock=self._clock)

    def _sts_in(self, region: str) -> Any:
        with self._lock:  # boto3 sessions are not thread-safe; the clients they make are
            if region not in self._sts:
                self._sts[region] = self._sts_client(region)
            return self._sts[region]


def refreshable_session(refresh: Refresh, *, clock: Callable[[], float] = time.time) -> boto3.session.Session:
    """A boto3 session whose credentials come from `refresh()` (botocore's credential metadata:
    access_key, secret_key, token, expiry_time), asked at the first signed call and again before they
    expire by `clock`."""
    credentials = DeferredRefreshableCredentials(
        refresh_using=refresh, method=_METHOD, time_fetcher=lambda: datetime.fromtimestamp(clock(), timezone.utc)
    )
    core = botocore.session.Session()
    # Service models are read once for all such sessions (each would parse its own, some 15 MB a session).
    core.register_component("data_loader", _shared_loader())
    core.register_component("credential_provider", CredentialResolver([_Given(credentials)]))
    return boto3.session.Session(botocore_session=core)


class _Given(CredentialProvider):
    """The credential chain of one session: these credentials, and nothing from the environment."""

    METHOD = _METHOD
    CANONICAL_NAME = "custom-vault-role"

    def __init__(self, credentials: DeferredRefreshableCredentials) -> None:
        super().__init__()
        self._credentials = credentials

    def load(self) -> DeferredRefreshableCredentials:
        return self._credentials


def _raising_connect_errors(assumer: RoleAssumer) -> Refresh:
    def refresh() -> dict[str, str]:
        try:
            return assumer()
        except CredentialsUnavailable as failure:
            kind = RetryableError if failure.retryable else CredentialsRefused
            raise kind("AssumeRole", failure.code, failure.message) from failure

    return refresh


def _raising_connector_failures(assumer: RoleAssumer) -> Refresh:
    def refresh() -> dict[str, str]:
        try:
            return assumer()
        except CredentialsUnavailable as failure:
            raise ConnectorFailed(failure.code, failure.message, retryable=failure.retryable) from failure

    return refresh


@functools.cache
def _shared_loader() -> botocore.loaders.Loader:
    return botocore.loaders.create_loader()


class _OursAlreadySaid(logging.Filter):
    """botocore logs every failed refresh with its traceback. Ours are said once, clearly, where they
    land (the conversation's log line; the assumer's warning while the old credentials still serve),
    so botocore's copy of them is dropped; any other failure of botocore's is left as it is."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not (error is not None and isinstance(error.__cause__, CredentialsUnavailable))


logging.getLogger("botocore.credentials").addFilter(_OursAlreadySaid())
