"""Every problem of a decoded JSON value against a msgspec type, each named by its JSON path, in words.

msgspec stops at the first problem; someone fixing a file by hand wants them all at once. So
`shape_problems` walks the value along the type: an object (a Struct) field by field, a list item by
item, a dict value by value, and checks each leaf with msgspec itself, so the verdict on a leaf is
msgspec's and only the collecting and the wording are ours.

    >>> shape_problems({"Region": "Oregon"}, Target, "$", words={AwsRegion: "an AWS region such as us-east-1"})
    ["$.Region: expected an AWS region such as us-east-1, got 'Oregon'", "$: missing required field `Secret`"]
"""

from __future__ import annotations

import difflib
import types
from collections.abc import Collection, Mapping
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import msgspec

SHOWN_CHARACTERS = 40


def shape_problems(
    value: Any, annotation: Any, path: str, *, words: Mapping[Any, str], hidden: Collection[Any] = ()
) -> list[str]:
    """The problems of `value` as `annotation`, at JSON path `path`.

    `words` says what an (Annotated) type is, for the types whose constraints are not self-explaining
    (a pattern); a value of a type in `hidden` (a secret) is never repeated in a problem.
    """
    return _Walk(words, hidden).problems(value, annotation, path)


class _Walk:
    def __init__(self, words: Mapping[Any, str], hidden: Collection[Any]) -> None:
        self.words = words
        self.hidden = hidden

    def problems(self, value: Any, annotation: Any, path: str) -> list[str]:
        if annotation in self.words:
            return self.leaf(value, annotation, path)
        base, metadata = _unannotated(annotation)
        if _is_union(base):
            options = [option for option in get_args(base) if option is not type(None)]
            if value is None and len(options) < len(get_args(base)):
                return []
            if len(options) == 1:
                return self.problems(value, options[0], path)
            return self.leaf(value, annotation, path)
        if isinstance(base, type) and issubclass(base, msgspec.Struct):
            return self.struct(value, base, path)
        origin = get_origin(base)
        if origin is list:
            if not isinstance(value, list):
                return [f"{path}: expected a list, got {_shown(value)}"]
            problems = self.leaf(value, Annotated[list[Any], *metadata], path) if metadata else []
            (item,) = get_args(base)
            for index, element in enumerate(value):
                problems += self.problems(element, item, f"{path}[{index}]")
            return problems
        if origin is dict:
            if not isinstance(value, dict):
                return [f"{path}: expected an object, got {_shown(value)}"]
            _, item = get_args(base)
            problems = []
            for key, element in value.items():
                problems += self.problems(element, item, f"{path}[{key!r}]")
            return problems
        return self.leaf(value, annotation, path)

    def struct(self, value: Any, cls: type[msgspec.Struct], path: str) -> list[str]:
        if not isinstance(value, dict):
            return [f"{path}: expected an object, got {_shown(value)}"]
        fields = {field.encode_name: field for field in msgspec.structs.fields(cls)}
        problems = []
        if cls.__struct_config__.forbid_unknown_fields:
            for key in value:
                if key not in fields:
                    guess = difflib.get_close_matches(key, fields, n=1)
                    hint = f" (did you mean `{guess[0]}`?)" if guess else ""
                    problems.append(f"{path}: unknown field `{key}`{hint}")
        for name, field in fields.items():
            if name in value:
                problems += self.problems(value[name], field.type, f"{path}.{name}")
            elif field.required:
                problems.append(f"{path}: missing required field `{name}`")
        return problems

    def leaf(self, value: Any, annotation: Any, path: str) -> list[str]:
        try:
            msgspec.convert(value, type=annotation)
        except msgspec.ValidationError:
            got = "something else" if annotation in self.hidden else _shown(value)
            return [f"{path}: expected {self.described(annotation)}, got {got}"]
        return []

    def described(self, annotation: Any) -> str:
        if annotation in self.words:
            return self.words[annotation]
        base, metadata = _unannotated(annotation)
        if get_origin(base) is Literal:
            return " or ".join(str(choice) for choice in get_args(base))
        if _is_union(base):
            return " or ".join(self.described(option) for option in get_args(base))
        limits = {key: getattr(meta, key) for meta in metadata for key in _LIMITS if getattr(meta, key) is not None}
        return _BASE_WORDS.get(base, getattr(base, "__name__", str(base))) + _limits_in_words(base, limits)


_LIMITS = ("gt", "ge", "lt", "le", "min_length", "max_length", "pattern")
_BASE_WORDS = {str: "a string", int: "a whole number", float: "a number", bool: "true or false", type(None): "null"}


def _limits_in_words(base: Any, limits: dict[str, Any]) -> str:
    if base is str or get_origin(base) is list:
        unit = "characters" if base is str else "items"
        low, high = limits.get("min_length"), limits.get("max_length")
        words = ""
        if low is not None and high is not None:
            words = f" of {low} to {high} {unit}"
        elif low == 1:
            words = " that is not empty"
        elif low is not None:
            words = f" of at least {low} {unit}"
        elif high is not None:
            words = f" of at most {high} {unit}"
        if "pattern" in limits:
            words += f" matching {limits['pattern']}"
        return words
    parts = []
    for key, phrase in (("gt", "above"), ("ge", "from"), ("lt", "below"), ("le", "up to")):
        if key in limits:
            parts.append(f"{phrase} {limits[key]}")
    return " " + " ".join(parts) if parts else ""


def _unannotated(annotation: Any) -> tuple[Any, tuple[Any, ...]]:
    if get_origin(annotation) is Annotated:
        base, *metadata = get_args(annotation)
        return base, tuple(metadata)
    return annotation, ()


def _is_union(annotation: Any) -> bool:
    return get_origin(annotation) in (Union, types.UnionType)


def _shown(value: Any) -> str:
    """A JSON value as a problem repeats it: strings quoted and cut short, containers by kind."""
    if isinstance(value, str):
        return repr(value if len(value) <= SHOWN_CHARACTERS else value[:SHOWN_CHARACTERS] + "...")
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return repr(value)
