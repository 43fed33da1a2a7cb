"""The checker of assumed roles: every service start that began a chat for a worker whose `Secret` is a
cross-account role assumed that role through the local STS (AssumeRole) before the chat began, with the
role's external id (the local STS refuses any other: a refused call is a problem). Pure: the chats'
records and the calls come from the local Connect's admin API, the starts' times from the harness.

A service process takes far longer than IN_FLIGHT_SECONDS to start and call Connect, so a chat that
began sooner after a start was begun by a call the killed process had already sent.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

IN_FLIGHT_SECONDS = 0.25
_MILLISECOND = 0.001  # AbsoluteTime's precision: the call's time may be up to this after the item's


@dataclass
class RoleFigures:
    chats: int = 0  # chats begun for a worker with a role
    starts: int = 0  # service starts that began one
    calls: int = 0  # AssumeRole calls granted
    problems: list[str] = field(default_factory=list)


def check_assumed_roles(roles: Mapping[str, Mapping[str, str]], contacts: Mapping[str, Sequence[Mapping[str, Any]]],
                        calls: Sequence[Mapping[str, Any]], starts: Sequence[float]) -> RoleFigures:
    """`roles`: the planned roles by vault reference; `contacts`: Connect's full records of the chats of
    the conversations played with those roles, by conversation; `calls`: every AssumeRole call;
    `starts`: when each service start began (wall clock, ascending)."""
    arns = {role["RoleArn"] for role in roles.values()}
    ours = [call for call in calls if call["RoleArn"] in arns]
    figures = RoleFigures(calls=sum(1 for call in ours if call["Granted"]))
    for call in ours:
        if not call["Granted"] or not call["ExternalIdPresent"]:
            figures.problems.append(f"AssumeRole of {call['RoleArn']} refused or without an external id: {call}")
    granted = sorted(call["At"] for call in ours if call["Granted"])
    served: set[int] = set()
    for conversation_id, records in contacts.items():
        for record in records:
            if not record["Items"]:
                continue
            began = min(_epoch(item["AbsoluteTime"]) for item in record["Items"])
            start = bisect.bisect_right(starts, began - IN_FLIGHT_SECONDS) - 1
            figures.chats += 1
            served.add(start)
            since = starts[start] if start >= 0 else float("-inf")
            first = bisect.bisect_left(granted, since)
            if first == len(granted) or granted[first] > began + _MILLISECOND:
                figures.problems.append(
                    f"{conversation_id}: chat {record['ContactId']} began at {began:.3f} in service start {start} "
                    f"(from {since:.3f}) with no AssumeRole of its role before it")
    figures.starts = len(served)
    return figures


def _epoch(absolute_time: str) -> float:
    return datetime.fromisoformat(absolute_time.replace("Z", "+00:00")).timestamp()
