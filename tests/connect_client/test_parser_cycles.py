"""Every call's response parser is freed with its response, not left as a cycle for the collector
(connect_client/parser_cycles.py)."""

from __future__ import annotations

import gc

from botocore.parsers import ResponseParser

from connect_local import LocalConnect
from connect_client import RegionClients
from tests.connect_client.conftest import chat_start


def parsers_alive() -> int:
    """Response parsers the process holds, garbage not yet collected included."""
    return sum(1 for thing in gc.get_objects() if isinstance(thing, ResponseParser))


def test_the_calls_leave_no_response_parser_behind(server: LocalConnect, region: RegionClients) -> None:
    # The `connect` client is made at the first contacts call, with the parser it keeps for its life.
    region.contacts.start_chat(chat_start(server, client_token="made-at-the-first-call"))
    gc.collect()
    gc.disable()  # a cycle stays until collected: none may be made meanwhile
    try:
        before = parsers_alive()
        for n in range(10):
            started = region.contacts.start_chat(chat_start(server, client_token=f"transfer-{n}"))
            region.participant.connect(started.participant_token)
        assert parsers_alive() == before
    finally:
        gc.enable()
