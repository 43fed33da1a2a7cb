"""GetTranscript: paging, start positions, sort order and scan direction."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from connect_local import Config, LocalConnect
from tests.connect_local.clients import Chat, Clients
from tests.connect_local.configs import config_with


@pytest.fixture
def chat(start_server: Callable[[Config], LocalConnect]) -> Any:
    """A chat with no agent whose transcript is the customer's join and m0..m9."""
    server = start_server(config_with(agents=[]))
    with Clients(server) as clients:
        chat = clients.start_chat()
        chat.connect()
        for n in range(10):
            chat.send(f"m{n}")
        yield chat


def contents(items: list[dict[str, Any]]) -> list[str]:
    return [item.get("Content", "joined") for item in items]


def every_page(chat: Chat, **query: Any) -> list[list[str]]:
    pages, token = [], None
    while True:
        answer = chat.transcript(**query, **({"NextToken": token} if token else {}))
        pages.append(contents(answer["Transcript"]))
        token = answer.get("NextToken")
        if token is None:
            return pages


def test_forward_pages_cover_the_transcript_in_order(chat: Chat) -> None:
    pages = every_page(chat, ScanDirection="FORWARD", MaxResults=4)
    assert pages == [["joined", "m0", "m1", "m2"], ["m3", "m4", "m5", "m6"], ["m7", "m8", "m9"]]


def test_the_default_scans_backward_from_the_newest_10_sorted_ascending(chat: Chat) -> None:
    answer = chat.transcript()
    assert contents(answer["Transcript"]) == [f"m{n}" for n in range(10)]
    assert contents(chat.transcript(NextToken=answer["NextToken"])["Transcript"]) == ["joined"]
    assert answer["InitialContactId"] == chat.contact_id


def test_with_a_start_position_the_default_scan_is_forward(chat: Chat) -> None:
    answer = chat.transcript(StartPosition={"MostRecent": 3})
    assert contents(answer["Transcript"]) == ["m6", "m7", "m8", "m9"]


def test_backward_pages_walk_from_the_newest(chat: Chat) -> None:
    pages = every_page(chat, ScanDirection="BACKWARD", MaxResults=5)
    assert pages == [["m5", "m6", "m7", "m8", "m9"], ["m0", "m1", "m2", "m3", "m4"], ["joined"]]


def test_descending_sort_reverses_each_page(chat: Chat) -> None:
    answer = chat.transcript(ScanDirection="FORWARD", SortOrder="DESCENDING", MaxResults=3)
    assert contents(answer["Transcript"]) == ["m1", "m0", "joined"]


def test_start_position_by_id_includes_that_item(chat: Chat) -> None:
    items = chat.transcript(ScanDirection="FORWARD", MaxResults=100)["Transcript"]
    m4 = next(i for i in items if i.get("Content") == "m4")
    forward = chat.transcript(ScanDirection="FORWARD", MaxResults=3, StartPosition={"Id": m4["Id"]})
    backward = chat.transcript(ScanDirection="BACKWARD", MaxResults=3, StartPosition={"Id": m4["Id"]})
    assert contents(forward["Transcript"]) == ["m4", "m5", "m6"]
    assert contents(backward["Transcript"]) == ["m2", "m3", "m4"]


def test_start_position_by_absolute_time(chat: Chat) -> None:
    items = chat.transcript(ScanDirection="FORWARD", MaxResults=100)["Transcript"]
    m7 = next(i for i in items if i.get("Content") == "m7")
    answer = chat.transcript(ScanDirection="FORWARD", StartPosition={"AbsoluteTime": m7["AbsoluteTime"]})
    assert contents(answer["Transcript"]) == ["m7", "m8", "m9"]


def test_start_position_most_recent(chat: Chat) -> None:
    answer = chat.transcript(ScanDirection="FORWARD", StartPosition={"MostRecent": 2})
    assert contents(answer["Transcript"]) == ["m7", "m8", "m9"]


def test_an_empty_start_position_is_treated_as_absent(chat: Chat) -> None:
    assert contents(chat.transcript(StartPosition={})["Transcript"]) == contents(chat.transcript()["Transcript"])


def test_max_results_outside_0_to_100_is_invalid(chat: Chat) -> None:
    assert chat.transcript(MaxResults=0)["Transcript"] == []
    with pytest.raises(chat.clients.participant.exceptions.ValidationException, match="MaxResults"):
        chat.transcript(MaxResults=101)


def test_an_unknown_start_id_or_a_forged_next_token_is_invalid(chat: Chat) -> None:
    invalid = chat.clients.participant.exceptions.ValidationException
    with pytest.raises(invalid, match="StartPosition.Id"):
        chat.transcript(StartPosition={"Id": "no-such-item"})
    with pytest.raises(invalid, match="NextToken"):
        chat.transcript(NextToken="forged")
