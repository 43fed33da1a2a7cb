"""Assuming the cross-account role a vault reference names: the vault gives the role's ARN and external
id, STS AssumeRole gives temporary credentials, in the form botocore's refreshable credentials take
from their `refresh_using`.

    >>> assumer = RoleAssumer(vault, "srn:vault::acme:aws-cross-account-role:connect", sts_client)
    >>> assumer()
    {'access_key': 'ASIA...', 'secret_key': '...', 'token': '...', 'expiry_time': '2026-12-03T10:00:00+00:00'}

Every call reads the vault again, so a role or an external id changed there is used from the next
renewal on. Every failure is a `CredentialsUnavailable` that says what to fix; none holds a credential,
and the external id is taken out of whatever STS answers.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    HTTPClientError,
    NoCredentialsError,
    PartialCredentialsError,
)
from botocore.exceptions import ConnectionError as EndpointUnreachable

from connectors.errors import is_retryable
from roles.errors import CredentialsUnavailable
from roles.lookup import read_role
from vault import CrossAccountRole, Vault

log = logging.getLogger(__name__)

# STS's default and the longest a role allows unless its MaxSessionDuration says more. botocore renews
# 15 minutes before the end, so a session lives 45 minutes between AssumeRole calls.
SESSION_SECONDS = 3600

# RoleSessionName: 2 to 64 of these (STS's pattern).
_SESSION_NAME_LIMIT = 64
_NOT_IN_SESSION_NAME = re.compile(r"[^\w+=,.@-]", re.ASCII)

# STS answers that mean the service's own credentials, not the role, are the problem.
_OWN_CREDENTIALS = {
    "ExpiredToken",
    "IncompleteSignature",
    "InvalidClientTokenId",
    "MissingAuthenticationToken",
    "SignatureDoesNotMatch",
    "UnrecognizedClientException",
}


def role_session_name(reference: str) -> str:
    """The RoleSessionName of a role assumed for `reference`: `connect-worker.ORG.ALIAS`.

    It names the secret, not one worker: the role's clients are shared by every worker whose `Secret`
    (or failover region's) is this reference, so it is what every call made with the session has in
    common, and what the role's owner sees in CloudTrail (`assumed-role/ROLE/connect-worker.acme.connect`).
    A character STS does not take becomes `-`; a name over 64 characters is cut, with 8 hex digits of
    the reference's SHA-256 kept at its end so two long references never share a name.
    """
    org, _, type_and_alias = reference.removeprefix("srn:vault::").partition(":")
    alias = type_and_alias.rpartition(":")[2]
    name = _NOT_IN_SESSION_NAME.sub("-", f"connect-worker.{org}.{alias}")
    if len(name) <= _SESSION_NAME_LIMIT:
        return name
    digest = hashlib.sha256(reference.encode()).hexdigest()[:8]
    return f"{name[: _SESSION_NAME_LIMIT - 9]}.{digest}"


class RoleAssumer:
    """`refresh_using` for botocore: the role `reference` names, assumed through `sts` (a boto3 STS client
    signed with the service's own credentials), as botocore's credential metadata."""

    def __init__(
        self,
        vault: Vault,
        reference: str,
        sts: Any,
        *,
        where: str = "the worker's Secret",
        duration_seconds: int = SESSION_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.reference = reference
        self._vault = vault
        self._sts = sts
        self._where = where
        self._duration = duration_seconds
        self._clock = clock
        self._valid_until: float | None = None

    def role(self) -> CrossAccountRole:
        """The role the reference names, read from the vault now."""
        return read_role(self._vault, self.reference, where=self._where)

    def __call__(self) -> dict[str, str]:
        try:
            return self._assume()
        except CredentialsUnavailable as failure:
            if self._valid_until is not None and self._clock() < self._valid_until:
                # botocore renews ahead of time and keeps the credentials it has; the conversations
                # see nothing yet, so this is the operator's only warning before they end.
                until = datetime.fromtimestamp(self._valid_until, timezone.utc).isoformat(timespec="seconds")
                log.warning(
                    "secret %s: the role could not be assumed again, its credentials serve until %s: %s",
                    self.reference, until, failure,
                )
            raise

    def _assume(self) -> dict[str, str]:
        role = self.role()
        try:
            answer = self._sts.assume_role(
                RoleArn=role.role_arn,
                ExternalId=role.external_id,
                RoleSessionName=role_session_name(self.reference),
                DurationSeconds=self._duration,
            )
        except ClientError as error:
            raise self._refused(role, error) from None
        except (NoCredentialsError, PartialCredentialsError):
            raise CredentialsUnavailable(
                self.reference,
                "NoServiceCredentials",
                "this service has no AWS credentials of its own to call sts:AssumeRole with: boto3's default "
                "chain (environment, profile, instance or task role) found none",
            ) from None
        except (EndpointUnreachable, HTTPClientError) as error:
            raise CredentialsUnavailable(
                self.reference, "StsUnavailable", f"STS in {self._region} could not be reached: {error}", retryable=True
            ) from None
        except BotoCoreError as error:
            raise CredentialsUnavailable(
                self.reference, "AssumeRoleFailed", f"sts:AssumeRole on {role.role_arn} failed: {error}"
            ) from None
        credentials = answer["Credentials"]
        expiry: datetime = credentials["Expiration"]
        self._valid_until = expiry.timestamp()
        return {
            "access_key": credentials["AccessKeyId"],
            "secret_key": credentials["SecretAccessKey"],
            "token": credentials["SessionToken"],
            "expiry_time": expiry.isoformat(),
        }

    @property
    def _region(self) -> str:
        return str(self._sts.meta.region_name)

    def _refused(self, role: CrossAccountRole, error: ClientError) -> CredentialsUnavailable:
        details = error.response.get("Error", {})
        code = str(details.get("Code") or "Unknown")
        said = str(details.get("Message") or code).replace(role.external_id, "<external id>")
        reference, arn = self.reference, role.role_arn
        if is_retryable(error):
            return CredentialsUnavailable(
                reference, "StsUnavailable", f"STS in {self._region} is throttling or failing: {code}: {said}",
                retryable=True,
            )
        if code == "AccessDenied":
            return CredentialsUnavailable(
                reference,
                "AssumeRoleDenied",
                f"sts:AssumeRole on {arn} was denied: the role's trust policy must allow this service's principal "
                f"with the sts:ExternalId {reference} holds, and the principal's own policy must allow "
                f"sts:AssumeRole on the role (STS said: {said})",
            )
        if code in _OWN_CREDENTIALS:
            return CredentialsUnavailable(
                reference,
                "ServiceCredentialsRefused",
                f"STS refused the credentials this service runs with ({code}: {said}): fix them (the "
                "environment, profile, instance or task role boto3 finds) before any role can be assumed",
            )
        if code == "RegionDisabledException":
            return CredentialsUnavailable(
                reference,
                "StsRegionDisabled",
                f"STS is not active in {self._region} for this service's account: activate the region in "
                f"IAM's account settings (STS said: {said})",
            )
        return CredentialsUnavailable(reference, "AssumeRoleFailed", f"sts:AssumeRole on {arn} failed: {code}: {said}")
