"""GetTranscript's paging over a chat's items, as a pure function.

The rule, for a transcript of n items in time order:

- the scan starts at `StartPosition`: its `Id` (that item), its
  `AbsoluteTime` (the first item at or after it scanning FORWARD, the last at
  or before it scanning BACKWARD), or `MostRecent` k (the item k places before
  the newest); with no StartPosition (or an empty one) FORWARD starts at the
  oldest item and BACKWARD at the newest;
- the scan direction defaults, as in AWS, to BACKWARD without a
  StartPosition and to FORWARD with one;
- it takes up to `MaxResults` items (default 10, as in AWS; 0 gives none) in
  the scan direction; `NextToken` continues the same scan where it stopped;
- the page is then sorted by `SortOrder` (default ASCENDING).
"""

from __future__ import annotations

import base64
import bisect
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from connect_local.errors import InvalidInput
from connect_local.model import Item

DEFAULT_MAX_RESULTS = 10


@dataclass(frozen=True)
class TranscriptQuery:
    max_results: int = DEFAULT_MAX_RESULTS
    next_token: str | None = None
    scan_direction: Literal["FORWARD", "BACKWARD"] = "BACKWARD"
    sort_order: Literal["ASCENDING", "DESCENDING"] = "ASCENDING"
    start_id: str | None = None
    start_time: str | None = None
    most_recent: int | None = None


def transcript_page(items: list[Item], query: TranscriptQuery, contact_id: str) -> tuple[list[Item], str | None]:
    """One page of `items` and the NextToken for the rest (None at the end)."""
    forward = query.scan_direction == "FORWARD"
    start = _start(items, query, contact_id, forward)
    count = query.max_results
    if not items or count == 0 or start < 0 or start >= len(items):
        return [], None
    if forward:
        page = items[start : start + count]
        following = start + count if start + count < len(items) else None
    else:
        page = items[max(0, start - count + 1) : start + 1]
        following = start - count if start - count >= 0 else None
    if query.sort_order == "DESCENDING":
        page = list(reversed(page))
    token = None if following is None else _encode_token(contact_id, following, query.scan_direction)
    return page, token


def _start(items: list[Item], query: TranscriptQuery, contact_id: str, forward: bool) -> int:
    if query.next_token is not None:
        return _decode_token(query.next_token, contact_id, query.scan_direction)
    if query.start_id is not None:
        for index, item in enumerate(items):
            if item.id == query.start_id:
                return index
        raise InvalidInput(f"StartPosition.Id {query.start_id!r} is not an item of this chat")
    if query.start_time is not None:
        moment = _parse_time(query.start_time)
        times = [item.time for item in items]
        return bisect.bisect_left(times, moment) if forward else bisect.bisect_right(times, moment) - 1
    if query.most_recent is not None:
        return max(0, len(items) - 1 - query.most_recent)
    return 0 if forward else len(items) - 1


def _parse_time(text: str) -> float:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise InvalidInput(f"StartPosition.AbsoluteTime {text!r} is not an ISO 8601 time") from None


def _encode_token(contact_id: str, index: int, direction: str) -> str:
    raw = json.dumps({"c": contact_id, "i": index, "d": direction}).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode_token(token: str, contact_id: str, direction: str) -> int:
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token.encode()))
        valid = decoded["c"] == contact_id and decoded["d"] == direction and isinstance(decoded["i"], int)
    except (ValueError, KeyError, TypeError):
        valid = False
    if not valid:
        raise InvalidInput("NextToken is not valid for this chat and scan direction")
    return decoded["i"]
