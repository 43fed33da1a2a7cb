"""The one interface both backends give (`LocalVault`, `SecretsManagerVault`), and reading through it.

    vault.put(reference, SecretText("sqz-key"))    # creates or replaces
    vault.get(reference)                           # -> SecretText(<hidden>); SecretNotFound if none
    vault.describe(reference)                      # -> SecretInfo(reference, created, updated), no value
    vault.list()                                   # -> [SecretInfo, ...] of every reference stored
    vault.delete(reference)                        # SecretNotFound if none
    read_text(vault, reference)                    # -> "sqz-key", for a `secret` reference only
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from vault.references import SECRET, VaultRef, require_type
from vault.values import SecretText, VaultValue


@dataclass(frozen=True)
class SecretInfo:
    """What anyone may know of a stored secret: never its value. Times are timezone-aware (UTC)."""

    reference: VaultRef
    created: datetime
    updated: datetime


class Vault(Protocol):
    def get(self, reference: VaultRef) -> VaultValue:
        """The value stored under `reference`, of the class its type says (`vault.values.value_class`);
        `SecretNotFound` if none, `VaultUnavailable` if it cannot be read."""
        ...

    def put(self, reference: VaultRef, value: VaultValue) -> None:
        """Store `value` under `reference`, replacing what was there; `InvalidSecretValue` if the value
        is not what the reference's type holds."""
        ...

    def delete(self, reference: VaultRef) -> None:
        """Forget `reference` and its value for good; `SecretNotFound` if none."""
        ...

    def describe(self, reference: VaultRef) -> SecretInfo:
        """What is known of `reference` without reading its value; `SecretNotFound` if none."""
        ...

    def list(self) -> list[SecretInfo]:
        """Every stored reference with its times, ordered by reference."""
        ...


def read_text(vault: Vault, reference: VaultRef, *, where: str | None = None) -> str:
    """The string a `secret` reference holds. A reference of another type is refused
    (`InvalidReference`, led by `where`) before the vault is asked."""
    require_type(reference, SECRET, where=where)
    value = vault.get(reference)
    if not isinstance(value, SecretText):
        raise TypeError(f"the vault answered {reference} with a {type(value).__name__}")
    return value.text
