"""Turning a request body into its msgspec type, with every problem found said in words.

msgspec stops at the first error and says it in its own terms (``Expected `str` matching regex
'^[A-Za-z0-9._:-]+$'``). Here each top-level field is converted on its own, so every wrong field is
named; a field whose type carries a description (`msgspec.Meta(description=...)`, which the OpenAPI
file shows too) is explained by it, any other error is translated. The API's own checks (limits,
DeliverTo) add theirs, and all of them go back in one 400 `invalid_body`.
"""

from __future__ import annotations

import functools
import json
import re
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

import msgspec

from api.context_limits import MAX_DEPTH
from api.errors import ApiError
from api.nesting import too_deep_under

T = TypeVar("T", bound=msgspec.Struct)
Check = Callable[[dict[str, Any]], Iterable[str]]

_AT = re.compile(r"^(?P<what>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_EXPECTED = re.compile(r"^Expected `(?P<expected>[^`]+)`, got `(?P<got>[^`]+)`$")
_TYPE_WORDS = {
    "str": "a string",
    "int": "an integer",
    "float": "a number",
    "bool": "true or false",
    "null": "null",
    "object": "an object",
    "array": "an array",
}


def parse_body(data: bytes, body_type: type[T], checks: Iterable[Check] = ()) -> T:
    """The body as `body_type`, or ApiError 400 `invalid_body` listing every problem, each by JSON path."""
    if not data.strip():  # msgspec would call it truncated input
        raise ApiError(400, "invalid_body", "the body is empty: this route takes a JSON object")
    deep_under = too_deep_under(data, 1 + MAX_DEPTH)
    if deep_under is not None:
        where = f"$.{deep_under}" if deep_under else "$"
        raise ApiError(400, "invalid_body", f"{where}: nested deeper than {MAX_DEPTH} levels")
    try:
        raw = msgspec.json.decode(data)
    except msgspec.DecodeError as error:
        raise ApiError(400, "invalid_body", f"the body is not valid JSON: {_decode_problem(data, error)}") from None
    if not isinstance(raw, dict):
        raise ApiError(400, "invalid_body", f"$: expected a JSON object, got {_got(raw)}")
    problems = _field_problems(raw, body_type)
    for check in checks:  # each looks only at fields of the type it checks, so it runs whatever else is wrong
        problems.extend(check(raw))
    if problems:
        raise ApiError(400, "invalid_body", "; ".join(problems))
    return msgspec.convert(raw, body_type)


def _field_problems(raw: dict[str, Any], body_type: type[msgspec.Struct]) -> list[str]:
    problems = []
    fields = _fields(body_type)
    for field in fields:
        path = f"$.{field.encode_name}"
        if field.encode_name not in raw:
            if field.required:
                problems.append(f"{path}: required")
            continue
        try:
            msgspec.convert(raw[field.encode_name], field.annotation)
        except msgspec.ValidationError as error:
            problems.append(_in_words(path, str(error), field.description, raw[field.encode_name]))
    known = {field.encode_name for field in fields}
    problems.extend(f"$.{name}: not a field of this body" for name in raw if name not in known)
    return problems


@dataclass(frozen=True)
class _Field:
    encode_name: str
    required: bool
    annotation: Any
    description: str | None


@functools.cache
def _fields(body_type: type[msgspec.Struct]) -> tuple[_Field, ...]:
    """A body type's fields as checked one by one: worked out once per type, not per request."""
    info = msgspec.inspect.type_info(body_type)
    assert isinstance(info, msgspec.inspect.StructType)
    hints = typing.get_type_hints(body_type, include_extras=True)
    return tuple(
        _Field(field.encode_name, field.required, hints[field.name], _description(field.type)) for field in info.fields
    )


def _in_words(path: str, message: str, description: str | None, value: Any) -> str:
    parts = _AT.match(message)
    assert parts is not None
    what, inner = parts["what"], parts["path"] or ""
    if description and not inner:
        return f"{path}: expected {description}, got {_got(value)}"
    expected = _EXPECTED.match(what)
    if expected:
        said = " or ".join(_TYPE_WORDS.get(name, name) for name in expected["expected"].split(" | "))
        return f"{path}{inner}: expected {said}, got {_TYPE_WORDS.get(expected['got'], expected['got'])}"
    unknown = re.match(r"^Object contains unknown field `(.+)`$", what)
    if unknown:
        return f"{path}{inner}.{unknown[1]}: not a field of this body"
    missing = re.match(r"^Object missing required field `(.+)`$", what)
    if missing:
        return f"{path}{inner}.{missing[1]}: required"
    return f"{path}{inner}: {what[0].lower()}{what[1:]}"


def _description(field_type: msgspec.inspect.Type) -> str | None:
    """The `msgspec.Meta(description=...)` of a field's type, if it has one."""
    if isinstance(field_type, msgspec.inspect.Metadata):
        return (field_type.extra_json_schema or {}).get("description")
    return None


def _decode_problem(data: bytes, error: msgspec.DecodeError) -> str:
    """msgspec's reason, except for the one it words misleadingly: a lone surrogate ("\\ud800" with
    no pair), which it reports as truncated input. Python's parser accepts those, so a body
    only it can read has one (the nesting is already bounded, so it cannot recurse too deep)."""
    try:
        json.loads(data)
    except ValueError:
        return str(error)
    return "a lone UTF-16 surrogate (\\ud800 to \\udfff without its pair, escaped or encoded): text must be valid Unicode"


def _got(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:40] + "..."
        return f"{shown!r}"
    return "an array" if isinstance(value, list) else "an object"
