"""The conversation so far, as a failover move carries it to the new chat in its contact attributes.

Amazon Connect takes at most 32,768 UTF-8 bytes across all of a contact's attribute keys and
values; the bot's context goes first (it is the conversation's own), then where the chat came from,
then as many of the most recent transcript lines as fit. Pure: the shell reads the log and calls
`carried_attributes` with what it read, so a start retried after a crash carries the same text.

    >>> carried_attributes(numbered_events_up_to_the_move, room=30_000)
    {"ConnectWorkerMovedFrom": "us-east-1 (primary) contact c-1", "ConnectWorkerTranscript": "Customer: hi\\nAna: hello"}
"""

from __future__ import annotations

from collections.abc import Iterable

from events.conversation_events import (
    AgentMessageReceived,
    ChatLeaveRequested,
    ConversationEvent,
    SlashContentSent,
    UserMessageRequested,
    UserMessageSent,
)
from events.long_messages import utf8_size

ATTRIBUTES_LIMIT = 32_768
MOVED_FROM = "ConnectWorkerMovedFrom"
TRANSCRIPT = "ConnectWorkerTranscript"
OMITTED = "[earlier messages omitted]"
CUSTOMER = "Customer"


def transcript_lines(events: Iterable[tuple[int, ConversationEvent]]) -> list[str]:
    """What was said, in order: the user's messages Connect confirmed, the agents' and the contact
    flow's messages as written at Connect, and what agents' slash commands sent the user."""
    requested: dict[int, UserMessageRequested] = {}
    lines: list[str] = []
    for seq, event in events:
        if isinstance(event, UserMessageRequested) and event.origin == "user":
            requested[seq] = event
        elif isinstance(event, UserMessageSent) and event.request_seq in requested:
            lines.append(f"{CUSTOMER}: {requested.pop(event.request_seq).text}")
        elif isinstance(event, AgentMessageReceived):
            speaker = event.agent_name or event.role
            text = event.content if event.original_content is None else event.original_content
            lines.append(f"{speaker}: {text}")
        elif isinstance(event, SlashContentSent):
            text = event.text if event.original_text is None else event.original_text
            lines.append(f"{event.agent_name}: {text}")
    return lines


def carried_attributes(events: Iterable[tuple[int, ConversationEvent]], *, room: int) -> dict[str, str]:
    """The attributes a moved chat adds to the bot's, from its log up to the move: where it came
    from (the region and the contact left behind), and the latest lines that fit in `room` bytes
    (what the limit leaves after the bot's own attributes), oldest first, after a marker when
    earlier ones had to be left out. Nothing when not even the origin fits."""
    numbered = list(events)
    left = [event for _, event in numbered if isinstance(event, ChatLeaveRequested)]
    if not left:
        return {}
    last = left[-1]  # the chat the conversation was last taken from (a later move may have caught it starting)
    origin = f"{last.target.region} ({last.target.failover_region or 'primary'})"
    attributes = {MOVED_FROM: f"{origin} contact {last.contact_id}"}
    budget = room - _size(attributes) - utf8_size(TRANSCRIPT)
    if budget < 0:
        return attributes if _size(attributes) <= room else {}
    text = _latest_lines(transcript_lines(numbered), budget)
    if text:
        attributes[TRANSCRIPT] = text
    return attributes


def _latest_lines(lines: list[str], budget: int) -> str:
    whole = "\n".join(lines)
    if utf8_size(whole) <= budget:
        return whole
    budget -= utf8_size(OMITTED)
    kept: list[str] = []
    for line in reversed(lines):
        cost = 1 + utf8_size(line)  # with the newline before it
        if cost > budget:
            break
        kept.append(line)
        budget -= cost
    return "\n".join([OMITTED, *reversed(kept)]) if budget >= 0 else ""


def attributes_size(attributes: dict[str, str]) -> int:
    """Bytes counted against Connect's limit: every key and value in UTF-8."""
    return _size(attributes)


def _size(attributes: dict[str, str]) -> int:
    return sum(utf8_size(key) + utf8_size(value) for key, value in attributes.items())
