"""Just enough CBOR (RFC 8949) for Smithy RPC v2, which recent botocore uses
to call Amazon Translate: maps, arrays, text and byte strings, integers,
floats, booleans and null; definite and indefinite lengths; tags are read
through (their value is kept, the tag dropped)."""

from __future__ import annotations

import struct
from typing import Any

_BREAK = object()


class CborError(ValueError):
    """The bytes are not the CBOR this codec reads."""


def encode(value: Any) -> bytes:
    out = bytearray()
    _encode(value, out)
    return bytes(out)


def _head(major: int, length: int, out: bytearray) -> None:
    if length < 24:
        out.append(major << 5 | length)
    else:
        for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
            if length < 1 << (8 * size):
                out.append(major << 5 | info)
                out.extend(length.to_bytes(size, "big"))
                return
        raise CborError(f"integer {length} is too large")


def _encode(value: Any, out: bytearray) -> None:
    if value is None:
        out.append(0xF6)
    elif value is True:
        out.append(0xF5)
    elif value is False:
        out.append(0xF4)
    elif isinstance(value, int):
        _head(0, value, out) if value >= 0 else _head(1, -1 - value, out)
    elif isinstance(value, float):
        out.append(0xFB)
        out.extend(struct.pack(">d", value))
    elif isinstance(value, str):
        encoded = value.encode()
        _head(3, len(encoded), out)
        out.extend(encoded)
    elif isinstance(value, (bytes, bytearray)):
        _head(2, len(value), out)
        out.extend(value)
    elif isinstance(value, (list, tuple)):
        _head(4, len(value), out)
        for element in value:
            _encode(element, out)
    elif isinstance(value, dict):
        _head(5, len(value), out)
        for key, element in value.items():
            _encode(key, out)
            _encode(element, out)
    else:
        raise CborError(f"cannot encode {type(value).__name__}")


def decode(data: bytes) -> Any:
    reader = _Reader(data)
    value = reader.item()
    if reader.position != len(data):
        raise CborError("trailing bytes after the CBOR item")
    return value


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.position = 0

    def take(self, count: int) -> bytes:
        if self.position + count > len(self.data):
            raise CborError("truncated CBOR")
        chunk = self.data[self.position : self.position + count]
        self.position += count
        return chunk

    def item(self) -> Any:
        value = self._item()
        if value is _BREAK:
            raise CborError("unexpected break")
        return value

    def _argument(self, info: int) -> int | None:
        if info < 24:
            return info
        if info in (24, 25, 26, 27):
            return int.from_bytes(self.take(1 << (info - 24)), "big")
        if info == 31:
            return None
        raise CborError(f"reserved additional information {info}")

    def _item(self) -> Any:
        initial = self.take(1)[0]
        major, info = initial >> 5, initial & 0x1F
        if major == 7:
            return self._simple(info)
        length = self._argument(info)
        if major == 0:
            return length
        if major == 1:
            return -1 - length
        if major in (2, 3):
            return self._string(major, length)
        if major == 4:
            return self._until_break() if length is None else [self.item() for _ in range(length)]
        if major == 5:
            return self._map(length)
        return self.item()

    def _string(self, major: int, length: int | None) -> bytes | str:
        if length is None:
            chunks = self._until_break()
            raw = b"".join(c.encode() if isinstance(c, str) else c for c in chunks)
        else:
            raw = self.take(length)
        return raw.decode() if major == 3 else raw

    def _until_break(self) -> list[Any]:
        items = []
        while (value := self._item()) is not _BREAK:
            items.append(value)
        return items

    def _map(self, length: int | None) -> dict[Any, Any]:
        result = {}
        if length is None:
            while (key := self._item()) is not _BREAK:
                result[key] = self.item()
        else:
            for _ in range(length):
                key = self.item()
                result[key] = self.item()
        return result

    def _simple(self, info: int) -> Any:
        if info == 20:
            return False
        if info == 21:
            return True
        if info in (22, 23):
            return None
        if info == 25:
            return struct.unpack(">e", self.take(2))[0]
        if info == 26:
            return struct.unpack(">f", self.take(4))[0]
        if info == 27:
            return struct.unpack(">d", self.take(8))[0]
        if info == 31:
            return _BREAK
        raise CborError(f"unsupported simple value {info}")

