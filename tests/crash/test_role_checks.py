"""The assumed-role checker on fabricated evidence: a chat begun after its start's AssumeRole passes,
one begun with no AssumeRole in its start is named, a chat begun just after a start counts to the
killed start that sent it, and a refused AssumeRole is a problem."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from tests.crash.role_checks import check_assumed_roles

ROLES = {"srn:vault::crash:aws-cross-account-role:assumed": {"RoleArn": "arn:role", "ExternalId": "x"}}
STARTS = [100.0, 110.0, 120.0]


def chat(contact_id: str, began: float) -> dict[str, Any]:
    at = datetime.fromtimestamp(began, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {"ContactId": contact_id, "Items": [{"AbsoluteTime": at}]}


def call(at: float, granted: bool = True) -> dict[str, Any]:
    return {"RoleArn": "arn:role", "RoleSessionName": "s", "ExternalIdPresent": True, "At": at, "Granted": granted}


def test_chats_begun_after_their_starts_assume_role_pass() -> None:
    figures = check_assumed_roles(ROLES, {"role-1": [chat("c1", 101.0)], "role-2": [chat("c2", 121.0)]},
                                  [call(100.9), call(120.5)], STARTS)
    assert (figures.problems, figures.chats, figures.starts, figures.calls) == ([], 2, 2, 2)


def test_a_chat_without_an_assume_role_in_its_start_is_named() -> None:
    figures = check_assumed_roles(ROLES, {"role-1": [chat("c1", 111.0)]}, [call(100.9)], STARTS)
    assert len(figures.problems) == 1 and "role-1" in figures.problems[0] and "start 1" in figures.problems[0]


def test_a_chat_begun_just_after_a_start_counts_to_the_killed_one() -> None:
    figures = check_assumed_roles(ROLES, {"role-1": [chat("c1", 110.05)]}, [call(100.9)], STARTS)
    assert figures.problems == [] and figures.starts == 1


def test_a_refused_assume_role_is_a_problem() -> None:
    figures = check_assumed_roles(ROLES, {"role-1": [chat("c1", 101.0)]}, [call(100.5, granted=False), call(100.9)],
                                  STARTS)
    assert len(figures.problems) == 1 and figures.calls == 1
