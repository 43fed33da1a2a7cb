"""The vault's typed errors. None of them ever holds a secret's value: a message names the reference
and says what is wrong, so it may go to a log, a CLI's stderr or an agent's notice as it is."""

from __future__ import annotations


class VaultError(Exception):
    """Anything the vault refuses or cannot do."""


class InvalidReference(VaultError, ValueError):
    """Not a vault reference, or one of a type the caller cannot use."""


class InvalidSecretValue(VaultError, ValueError):
    """A value that does not fit its reference's type (a role ARN of the wrong shape, a document that
    is not a JSON object, ...)."""


class SecretNotFound(VaultError, LookupError):
    """The vault holds nothing under this reference."""

    def __init__(self, reference: object, where: str) -> None:
        super().__init__(f"no secret {reference} in {where}")
        self.reference = reference


class VaultUnavailable(VaultError):
    """The vault could not answer: its key is missing or wrong, an entry was altered, or Secrets
    Manager refused or could not be reached."""
