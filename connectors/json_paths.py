"""JSONPath as the seed's mappings write it (`$.Text`, `$.Destination.ToAddresses[0]`), through jsonpath-ng.

A path that is read (`inputPath`, `responseBodyPath`) may be any JSONPath jsonpath-ng parses. A path
that is written (`requestBodyPath`, `outputPath`) must name one place: field names and list indexes
from `$`, starting with a name, so that writing it means one thing; the objects and lists on the way
are created as needed.

    >>> request = {}
    >>> write("$.Destination.ToAddresses[0]", request, "maya@example.com")
    >>> request
    {'Destination': {'ToAddresses': ['maya@example.com']}}
    >>> read("$.email", {"email": "maya@example.com"})
    ['maya@example.com']
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from jsonpath_ng import JSONPath, parse
from jsonpath_ng.exceptions import JSONPathError
from jsonpath_ng.jsonpath import Child, Fields, Index, Root

ONE_PLACE = "a path of names and indexes from $, such as $.Destination.ToAddresses[0]"


class BadJsonPath(ValueError):
    """The text is not a JSONPath, or not one that can be written."""


class CannotWrite(ValueError):
    """The document holds a value of another kind on the path (a string where an object is needed)."""


@cache
def compiled(path: str) -> JSONPath:
    try:
        return parse(path)
    except JSONPathError as error:
        raise BadJsonPath(f"not a JSONPath ({error})") from None


@cache
def steps(path: str) -> tuple[str | int, ...]:
    """The names and indexes of a path that is written, or `BadJsonPath` if it is not one place."""
    found = _steps(compiled(path))
    if not found or not isinstance(found[0], str):
        raise BadJsonPath(f"expected {ONE_PLACE}, got {path!r}")
    return found


def steps_text(steps: Sequence[str | int]) -> str:
    """Steps as the tail of a JSONPath: `.Destination.ToAddresses[0]` (put `$` or a prefix before it)."""
    return "".join(f"[{step}]" if isinstance(step, int) else f".{step}" for step in steps)


def read(path: str, document: Any) -> list[Any]:
    """Every value `path` finds in `document`: none, one, or several for a path with wildcards."""
    return [match.value for match in compiled(path).find(document)]


def write(path: str, document: dict[str, Any], value: Any) -> None:
    """Put `value` at `path` in `document`, creating the objects and lists on the way.

    jsonpath-ng would pass silently over a string where an object is needed, or replace an object by
    a list, so every value already on the way is checked first and a clash raises `CannotWrite`.
    """
    on_the_way = steps(path)
    current: Any = document
    for depth, step in enumerate(on_the_way):
        kind, needed = (dict, "an object") if isinstance(step, str) else (list, "a list")
        if not isinstance(current, kind):
            reached = "$" + steps_text(on_the_way[:depth])
            raise CannotWrite(f"cannot write {path}: {reached} holds {_kind(current)}, not {needed}")
        if isinstance(step, str) and step in current:
            current = current[step]
        elif isinstance(step, int) and step < len(current):
            current = current[step]
        else:
            break
    compiled(path).update_or_create(document, value)


def _steps(node: JSONPath) -> tuple[str | int, ...] | None:
    """The steps from `$` to one place, or None when the path is anything else (wildcards, slices, ...)."""
    if isinstance(node, Root):
        return ()
    if not isinstance(node, Child):
        return None
    before, step = _steps(node.left), _step(node.right)
    return None if before is None or step is None else before + (step,)


def _step(node: JSONPath) -> str | int | None:
    if isinstance(node, Fields) and len(node.fields) == 1 and node.fields[0] != "*":
        return str(node.fields[0])
    if isinstance(node, Index) and len(node.indices) == 1 and node.indices[0] >= 0:
        return int(node.indices[0])
    return None


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "true or false"
    if value is None:
        return "null"
    return "a number"
