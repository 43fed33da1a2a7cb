"""The vault: what a reference `srn:vault::ORG:TYPE:ALIAS` holds, kept locally (encrypted, in the
event store's file) or in AWS Secrets Manager, behind one interface. See vault/README.md."""

from vault.errors import InvalidReference, InvalidSecretValue, SecretNotFound, VaultError, VaultUnavailable
from vault.interface import SecretInfo, Vault, read_text
from vault.local import LocalVault
from vault.references import ROLE_TYPES, SECRET, SECRETDOC, TYPES, VaultRef, parse_reference, require_type
from vault.secretsmanager import SecretsManagerVault
from vault.values import CrossAccountRole, SecretDoc, SecretText, VaultValue, parse_value, serialize_value

__all__ = [
    "ROLE_TYPES",
    "SECRET",
    "SECRETDOC",
    "TYPES",
    "CrossAccountRole",
    "InvalidReference",
    "InvalidSecretValue",
    "LocalVault",
    "SecretDoc",
    "SecretInfo",
    "SecretNotFound",
    "SecretText",
    "SecretsManagerVault",
    "Vault",
    "VaultError",
    "VaultRef",
    "VaultUnavailable",
    "VaultValue",
    "parse_reference",
    "parse_value",
    "read_text",
    "require_type",
    "serialize_value",
]
