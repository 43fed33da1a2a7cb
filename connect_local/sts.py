"""STS AssumeRole's local side: any role is assumed, unless an external id was set for it and the call
brings another (or none); every call is kept, without the external id's value, for tests to read.

    >>> trust = RoleTrust(time.time)
    >>> trust.require_external_id("arn:aws:iam::123456789012:role/connect", "s3cret")
    >>> trust.assume("arn:aws:iam::123456789012:role/connect", "worker", "s3cret", 3600).access_key_id
    'ASIA...'
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from connect_local.errors import AccessDenied


@dataclass(frozen=True)
class AssumeRoleCall:
    """One AssumeRole call as the admin API shows it: never the external id itself."""

    role_arn: str
    role_session_name: str
    external_id_present: bool
    region: str
    at: float
    granted: bool

    def to_wire(self) -> dict[str, Any]:
        return {
            "RoleArn": self.role_arn,
            "RoleSessionName": self.role_session_name,
            "ExternalIdPresent": self.external_id_present,
            "Region": self.region,
            "At": self.at,
            "Granted": self.granted,
        }


@dataclass(frozen=True)
class TemporaryCredentials:
    access_key_id: str
    secret_access_key: str
    session_token: str
    expiration: float


class RoleTrust:
    """Which roles may be assumed (all; with the external id set for one, only with that id), and the
    calls made."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._external_ids: dict[str, str] = {}
        self._calls: list[AssumeRoleCall] = []
        self._lock = threading.Lock()

    def require_external_id(self, role_arn: str, external_id: str) -> None:
        with self._lock:
            self._external_ids[role_arn] = external_id

    def calls(self) -> list[AssumeRoleCall]:
        with self._lock:
            return list(self._calls)

    def assume(
        self, role_arn: str, session_name: str, external_id: str | None, duration_seconds: int, region: str = ""
    ) -> TemporaryCredentials:
        """Raises AccessDenied when the role requires another external id than `external_id`."""
        now = self._clock()
        with self._lock:
            required = self._external_ids.get(role_arn)
            granted = required is None or (external_id is not None and secrets.compare_digest(required, external_id))
            self._calls.append(AssumeRoleCall(role_arn, session_name, bool(external_id), region, now, granted))
        if not granted:
            raise AccessDenied(f"User is not authorized to perform: sts:AssumeRole on resource: {role_arn}")
        return TemporaryCredentials(
            access_key_id="ASIA" + secrets.token_hex(8).upper(),
            secret_access_key=secrets.token_urlsafe(30),
            session_token=secrets.token_urlsafe(48),
            expiration=now + duration_seconds,
        )
