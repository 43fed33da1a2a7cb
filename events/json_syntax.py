"""A JSON file's syntax error as a person fixing it by hand wants it: by line and column, in words.

msgspec says where by byte offset (`JSON is malformed: trailing comma in object (byte 46)`); the
worker, connector and `serve` configuration files all report the place as `line L, column C`, and
the trailing comma itself rather than the bracket after it.

    >>> describe_syntax_error(b'{"a": 1,\\n}', "JSON is malformed: trailing comma in object (byte 9)")
    'line 1, column 8: JSON syntax error: trailing comma in object'
"""

from __future__ import annotations

import re

_BYTE = re.compile(r"\(byte (?P<offset>\d+)\)")


def describe_syntax_error(raw: bytes, message: str) -> str:
    """msgspec's DecodeError `message` about `raw`, placed by line and column."""
    detail = message.removeprefix("JSON is malformed: ")
    match = _BYTE.search(detail)
    if match is None:
        # "Input data was truncated": the file ends inside a value.
        return f"{line_and_column(raw, len(raw))}: JSON syntax error: {detail[:1].lower()}{detail[1:]}"
    offset = int(match["offset"])
    detail = _BYTE.sub("", detail).strip()
    if raw[offset : offset + 2] in (b"//", b"/*"):
        detail = "comments are not allowed in JSON; remove it"
    if detail.startswith("trailing comma"):
        # msgspec points at the closing bracket; the user must delete the comma.
        offset = len(raw[:offset].rstrip()) - 1
    return f"{line_and_column(raw, offset)}: JSON syntax error: {detail}"


def line_and_column(raw: bytes, offset: int) -> str:
    """`line L, column C` of byte `offset` of `raw`, both from 1, the column in characters."""
    line = raw.count(b"\n", 0, offset) + 1
    line_start = raw.rfind(b"\n", 0, offset) + 1
    column = len(raw[line_start:offset].decode("utf-8", "replace")) + 1
    return f"line {line}, column {column}"
