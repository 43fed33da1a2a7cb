"""The arguments of an append, checked the same way by every event store before anything is written."""

from __future__ import annotations

from collections.abc import Sequence

from store.records import NewEvent


def check_stream(stream: str) -> None:
    if not isinstance(stream, str) or not stream:
        raise ValueError(f"stream must be a non-empty str, not {stream!r}")


def check_expected_version(expected_version: int) -> None:
    if type(expected_version) is not int or expected_version < 0:
        raise ValueError(f"expected_version must be an int of 0 or more, not {expected_version!r}")


def checked_events(events: Sequence[NewEvent]) -> tuple[NewEvent, ...]:
    checked = tuple(events)
    if not checked:
        raise ValueError("events must hold at least one NewEvent")
    for index, event in enumerate(checked):
        if not isinstance(event, NewEvent):
            raise TypeError(f"events[{index}] must be a NewEvent, not {type(event).__name__}")
        if not isinstance(event.type, str) or not event.type:
            raise ValueError(f"events[{index}].type must be a non-empty str, not {event.type!r}")
        if not isinstance(event.data, bytes):
            raise TypeError(f"events[{index}].data must be bytes, not {type(event.data).__name__}")
    return checked
