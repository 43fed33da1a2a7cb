"""Vault references, as the seed writes them: `srn:vault::ORG:TYPE:ALIAS`.

    >>> reference = parse_reference("srn:vault::acme:secret:squeeze", where="ShortLinkConfig.Config.ApiKey")
    >>> reference.type, reference.alias
    ('secret', 'squeeze')
    >>> str(reference)
    'srn:vault::acme:secret:squeeze'

The shape is the worker file's own (`events.worker_config.SecretSrn`): one pattern, so a reference a
worker file accepts is one the vault can parse. The vault adds what a worker file does not check:
the TYPE must be one it knows, for the type decides what the value holds (`vault.values`).
"""

from __future__ import annotations

import re
import typing
from dataclasses import dataclass

from events.worker_config import SecretSrn
from vault.errors import InvalidReference

# Both name a cross-account role: the seed's workers say `aws-cross-account-role`, its connectors
# `cross-account-role`.
ROLE_TYPES = ("aws-cross-account-role", "cross-account-role")
SECRET = "secret"
SECRETDOC = "secretdoc"
TYPES = (*ROLE_TYPES, SECRET, SECRETDOC)

_PATTERN = re.compile(typing.get_args(SecretSrn)[1].pattern)
_SHAPE = "srn:vault::ORG:TYPE:ALIAS"


@dataclass(frozen=True, order=True)
class VaultRef:
    """A parsed reference; `str()` gives it back as written."""

    org: str
    type: str
    alias: str

    def __str__(self) -> str:
        return f"srn:vault::{self.org}:{self.type}:{self.alias}"


def parse_reference(text: str, *, where: str | None = None) -> VaultRef:
    """The reference `text` names, or `InvalidReference`, its message led by `where` (a JSON path,
    an argument's name) when given.

    A malformed reference is not repeated in the message: what is pasted where a reference belongs
    may be the secret itself.
    """
    if not isinstance(text, str) or not _PATTERN.fullmatch(text):
        raise InvalidReference(_located(where, f"expected a vault reference {_SHAPE}, got something else"))
    org, type_, alias = text.removeprefix("srn:vault::").split(":")
    if type_ not in TYPES:
        raise InvalidReference(_located(where, f"unknown vault type {type_!r}; the types are {', '.join(TYPES)}"))
    return VaultRef(org, type_, alias)


def require_type(reference: VaultRef, *types: str, where: str | None = None) -> VaultRef:
    """`reference` if its type is one of `types`, else `InvalidReference` saying what was expected."""
    if reference.type not in types:
        wanted = " or ".join(types)
        problem = f"{reference} is a {reference.type} reference; this needs one of type {wanted}"
        raise InvalidReference(_located(where, problem))
    return reference


def _located(where: str | None, problem: str) -> str:
    return problem if where is None else f"{where}: {problem}"
