"""Reading a reference's value from the vault for signing, every failure as `CredentialsUnavailable`.

    >>> role = read_role(vault, "srn:vault::acme:aws-cross-account-role:connect", where="$.Data.Secret")
    >>> role.role_arn
    'arn:aws:iam::123456789012:role/connect-worker'
"""

from __future__ import annotations

from vault import ROLE_TYPES, CrossAccountRole, InvalidReference, InvalidSecretValue, SecretNotFound, Vault
from vault import VaultUnavailable, VaultValue, parse_reference, require_type

from roles.errors import CredentialsUnavailable


def lookup(vault: Vault, reference: str, types: tuple[str, ...], *, where: str) -> VaultValue:
    """The value `reference` holds, if it is one of `types`. The vault's own words say what is wrong
    (they name the reference, never a value), led by `where` (the worker's Secret, a connector's
    Credentials) for a reference that is no reference or not of `types`; a missing secret also says
    how to put it."""
    try:
        parsed = require_type(parse_reference(reference, where=where), *types, where=where)
        return vault.get(parsed)
    except InvalidReference as error:
        raise CredentialsUnavailable(reference, "InvalidSecretReference", str(error)) from None
    except SecretNotFound:
        put = f"python run.py secret put {reference} --file FILE"
        message = f"the vault holds no {reference}: put it there ({put})"
        raise CredentialsUnavailable(reference, "SecretNotFound", message) from None
    except InvalidSecretValue as error:
        raise CredentialsUnavailable(reference, "InvalidSecretValue", str(error)) from None
    except VaultUnavailable as error:
        raise CredentialsUnavailable(reference, "VaultUnavailable", f"the vault could not be read: {error}") from None


def read_role(vault: Vault, reference: str, *, where: str) -> CrossAccountRole:
    """The cross-account role `reference` names (`lookup` of a role type)."""
    value = lookup(vault, reference, ROLE_TYPES, where=where)
    assert isinstance(value, CrossAccountRole)
    return value
