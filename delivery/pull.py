"""The pull stream for bots that cannot take webhooks: long poll, or server-sent events.

    GET /v1/conversations/{id}/events?after=SEQ&wait=SECONDS   -> {"Events": [...], "Next": seq, "Ended": bool}
    GET /v1/conversations/{id}/events  (Accept: text/event-stream, Last-Event-ID resumes)

The bots' API serves these routes behind its own authentication and scoping
(only the conversations the caller may see, 404 for any other or unknown),
and answers `BadQuery` as its 400 `{"Code", "Message"}`.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from delivery.commits import Commits
from delivery.messages import HANDBACK_TYPE, bot_message, is_for_the_bot
from store.conversations import conversation_stream
from store.event_store import EventStore
from store.records import StoredEvent

MAX_WAIT_SECONDS = 30.0
KEEP_ALIVE_SECONDS = 15.0
MAX_SEQ = 2**63 - 1  # SQLite's INTEGER


class BadQuery(ValueError):
    """A query parameter or header the stream cannot take; the message starts with its name."""


def delivery_routes(store: EventStore) -> list[Route]:
    """The pull stream's routes over `store`; mount them in the bots' API."""
    commits = Commits(store)

    async def conversation_events(request: Request) -> Response:
        conversation_id = request.path_params["conversation_id"]
        stream = conversation_stream(conversation_id)
        wait = _wait(request)
        if "text/event-stream" in request.headers.get("accept", ""):
            after = _resume_point(request, conversation_id)
            return StreamingResponse(
                _event_stream(store, commits, stream, after),
                media_type="text/event-stream",
                headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
            )
        after = _seq(request.query_params.get("after", "0"), "after")
        return JSONResponse(await _long_poll(store, commits, stream, after, wait))

    return [Route("/v1/conversations/{conversation_id}/events", conversation_events, methods=["GET"])]


async def _long_poll(store: EventStore, commits: Commits, stream: str, after: int, wait: float) -> dict[str, Any]:
    deadline = time.monotonic() + wait
    while True:
        position = store.last_position()
        page = await _read(store, stream, after)
        if page.events or page.ended:
            return {"Events": page.events, "Next": page.next, "Ended": page.ended}
        after = page.next
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not await commits.after(position, remaining):
            return {"Events": [], "Next": after, "Ended": False}


async def _event_stream(store: EventStore, commits: Commits, stream: str, after: int) -> AsyncIterator[str]:
    while True:
        position = store.last_position()
        page = await _read(store, stream, after)
        for message in page.events:
            yield f"id: {message['Id']}\nevent: {message['Type']}\ndata: {json.dumps(message)}\n\n"
        if page.ended:
            return
        after = page.next
        if not await commits.after(position, KEEP_ALIVE_SECONDS):
            yield ": keep-alive\n\n"


class _Page:
    def __init__(self, events: list[dict[str, Any]], next_seq: int, ended: bool) -> None:
        self.events = events
        self.next = next_seq
        self.ended = ended


async def _read(store: EventStore, stream: str, after: int) -> _Page:
    """The bot messages after seq `after`; `next` is the last seq read (bot message or not)."""
    stored: list[StoredEvent] = await to_thread.run_sync(
        lambda: store.read_stream(stream, after_seq=max(after - 1, 0))
    )
    if after > 0 and stored and stored[0].seq == after:
        previous, stored = stored[0], stored[1:]
        ended_before = previous.type == HANDBACK_TYPE
    else:
        ended_before = False
    events = [bot_message(event) for event in stored if is_for_the_bot(event)]
    ended = ended_before or any(event.type == HANDBACK_TYPE for event in stored)
    return _Page(events, stored[-1].seq if stored else after, ended)


def _wait(request: Request) -> float:
    text = request.query_params.get("wait", "0")
    try:
        wait = float(text)
    except ValueError:
        raise BadQuery(f"wait: expected a number of seconds from 0 to {MAX_WAIT_SECONDS:g}, not {text!r}") from None
    if not 0 <= wait <= MAX_WAIT_SECONDS:
        raise BadQuery(f"wait: expected a number of seconds from 0 to {MAX_WAIT_SECONDS:g}, not {text!r}")
    return wait


def _seq(text: str, name: str) -> int:
    """ASCII decimal digits within SQLite's integers; `isdigit` alone would take '²' and '٣'."""
    if not (text.isascii() and text.isdecimal()) or int(text) > MAX_SEQ:
        raise BadQuery(f"{name}: expected a sequence number from 0 to {MAX_SEQ} in decimal digits, not {text[:30]!r}")
    return int(text)


def _resume_point(request: Request, conversation_id: str) -> int:
    """Where an event stream starts: after Last-Event-ID ("<conversation id>:<seq>"), else after `after`."""
    last_event_id = request.headers.get("last-event-id")
    if last_event_id is None:
        return _seq(request.query_params.get("after", "0"), "after")
    prefix, _, seq = last_event_id.rpartition(":")
    if prefix != conversation_id:
        raise BadQuery(f"Last-Event-ID: expected '{conversation_id}:<seq>', not {last_event_id[:60]!r}")
    return _seq(seq, "Last-Event-ID")
