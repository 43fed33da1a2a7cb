"""Why the credentials a vault reference names could not be had, in words that say what to fix."""

from __future__ import annotations


class CredentialsUnavailable(Exception):
    """The cross-account role a reference names was not assumed, or its secret could not be read.

    `code` is stable: `AssumeRoleDenied`, `AssumeRoleFailed`, `SecretNotFound`, `InvalidSecretReference`,
    `InvalidSecretValue`, `VaultUnavailable`, `NoServiceCredentials`, `ServiceCredentialsRefused`,
    `StsRegionDisabled`, `StsUnavailable`. `message` names the reference and says which permission or
    trust is missing; it never holds a credential nor the external id. `retryable` is true when the same
    request may work later (STS throttled, failing or unreachable, after botocore's own retries).
    """

    def __init__(self, reference: str, code: str, message: str, *, retryable: bool = False) -> None:
        super().__init__(f"{code}: {message}")
        self.reference = reference
        self.code = code
        self.message = message
        self.retryable = retryable
