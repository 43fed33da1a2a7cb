"""What a reference holds, by its type, and the one text form of each value.

- `aws-cross-account-role`, `cross-account-role`: `CrossAccountRole(role_arn, external_id)`,
  written `{"RoleArn": "arn:aws:iam::123456789012:role/connect", "ExternalId": "..."}`;
- `secretdoc`: `SecretDoc(document)`, written as the JSON object;
- `secret`: `SecretText(text)`, written as the text itself.

The text form is what `run.py secret put` reads, what Secrets Manager holds as the SecretString and
what the local vault encrypts, so a value moves between them unchanged. `parse_value` reads it,
`serialize_value` writes it; both refuse, naming the reference, a value that does not fit its type.
A value's `repr` shows its type only, and no error here repeats a value.

    >>> reference = parse_reference("srn:vault::acme:aws-cross-account-role:connect")
    >>> role = parse_value(reference, '{"RoleArn": "arn:aws:iam::123456789012:role/connect", "ExternalId": "x-42"}')
    >>> role
    CrossAccountRole(<hidden>)
    >>> role.role_arn
    'arn:aws:iam::123456789012:role/connect'
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, NoReturn

from vault.errors import InvalidSecretValue
from vault.references import ROLE_TYPES, SECRET, SECRETDOC, VaultRef

# Secrets Manager's bound on a SecretString; the local vault keeps the same, so either backend takes
# what the other does.
MAX_VALUE_BYTES = 65_536

# IAM's shapes: a role ARN (in any partition, with an optional path) and STS's ExternalId.
_ROLE_ARN = re.compile(r"arn:aws(?:-[a-z]+)*:iam::\d{12}:role/(?:[\w+=,.@-]+/)*[\w+=,.@-]{1,64}", re.ASCII)
_EXTERNAL_ID = re.compile(r"[\w+=,.@:/-]{2,1224}", re.ASCII)
_ROLE_FIELDS = ("RoleArn", "ExternalId")
_ROLE_SHAPE = '{"RoleArn": "arn:aws:iam::<12 digits>:role/<name>", "ExternalId": "..."}'


class _Hidden:
    """A value whose repr (and so str, and any log line or traceback that shows it) names its type only."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(<hidden>)"


@dataclass(frozen=True, repr=False)
class CrossAccountRole(_Hidden):
    """The role a cross-account reference names, and the external id its trust policy asks for."""

    role_arn: str
    external_id: str

    def __post_init__(self) -> None:
        if not isinstance(self.role_arn, str) or not _ROLE_ARN.fullmatch(self.role_arn):
            raise InvalidSecretValue("RoleArn is not an IAM role ARN (arn:aws:iam::<12 digits>:role/<name>)")
        if not isinstance(self.external_id, str) or not _EXTERNAL_ID.fullmatch(self.external_id):
            raise InvalidSecretValue(
                "ExternalId must be 2 to 1,224 letters, digits or + = , . @ : / - _ (what STS accepts)"
            )


@dataclass(frozen=True, repr=False)
class SecretDoc(_Hidden):
    """A JSON object: several values kept together (a connector's access keys, say)."""

    document: dict[str, Any]

    def __post_init__(self) -> None:
        if not isinstance(self.document, dict):
            raise InvalidSecretValue("a secretdoc holds a JSON object")


@dataclass(frozen=True, repr=False)
class SecretText(_Hidden):
    """A string: an API key (the short-link API's `Config.ApiKey`), a password."""

    text: str

    def __post_init__(self) -> None:
        if not isinstance(self.text, str) or not self.text:
            raise InvalidSecretValue("a secret holds a string that is not empty")


VaultValue = CrossAccountRole | SecretDoc | SecretText


def value_class(reference: VaultRef) -> type[VaultValue]:
    """The class of the value a reference of this type holds."""
    if reference.type in ROLE_TYPES:
        return CrossAccountRole
    return {SECRETDOC: SecretDoc, SECRET: SecretText}[reference.type]


def parse_value(reference: VaultRef, text: str) -> VaultValue:
    """The value `text` (its text form) gives `reference`, or `InvalidSecretValue` naming the reference."""
    try:
        _check_size(text)
        kind = value_class(reference)
        if kind is SecretText:
            return SecretText(text)
        document = _json_object(text)
        if kind is SecretDoc:
            return SecretDoc(document)
        return _role(document)
    except InvalidSecretValue as error:
        raise InvalidSecretValue(f"{reference}: {error}") from None


def serialize_value(reference: VaultRef, value: VaultValue) -> str:
    """The text form of `value`, once it is known to be what `reference` holds."""
    kind = value_class(reference)
    if type(value) is not kind:
        raise InvalidSecretValue(
            f"{reference}: a reference of type {reference.type} holds a {kind.__name__}, not a {type(value).__name__}"
        )
    if isinstance(value, SecretText):
        text = value.text
    elif isinstance(value, SecretDoc):
        try:
            text = json.dumps(value.document, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError):
            raise InvalidSecretValue(
                f"{reference}: the document is not plain JSON (strings, numbers, lists, objects)"
            ) from None
    else:
        text = json.dumps({"RoleArn": value.role_arn, "ExternalId": value.external_id})
    try:
        _check_size(text)
    except InvalidSecretValue as error:
        raise InvalidSecretValue(f"{reference}: {error}") from None
    return text


def _check_size(text: str) -> None:
    size = len(text.encode())
    if size > MAX_VALUE_BYTES:
        raise InvalidSecretValue(f"the value is {size:,} bytes; at most {MAX_VALUE_BYTES:,}")


def _json_object(text: str) -> dict[str, Any]:
    try:
        document = json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as error:
        # The decoder's own words and place, never the text around it.
        raise InvalidSecretValue(f"not JSON: {error.msg} (line {error.lineno}, column {error.colno})") from None
    if not isinstance(document, dict):
        raise InvalidSecretValue("expected a JSON object")
    return document


def _refuse_constant(name: str) -> NoReturn:
    raise InvalidSecretValue(f"not JSON: {name} is not a JSON number")


def _role(document: dict[str, Any]) -> CrossAccountRole:
    unknown = sorted(set(document) - set(_ROLE_FIELDS))
    if unknown:
        raise InvalidSecretValue(f"unknown field {unknown[0]!r} in a cross-account role, which is {_ROLE_SHAPE}")
    missing = [name for name in _ROLE_FIELDS if name not in document]
    if missing:
        raise InvalidSecretValue(f"missing field {missing[0]!r} in a cross-account role, which is {_ROLE_SHAPE}")
    return CrossAccountRole(document["RoleArn"], document["ExternalId"])
