"""A conversation's events as a person reads them: when, who, what was said, and what changed.

    #3    07:00:01.204  Connect         ChatStarted            contact 8c1f..., participant 2e9a...
                                        → phase starting→started · chat 8c1f...

Who: the bot (and the user it speaks for), the agent by name, Connect, or the worker itself. Nothing
here shows a token: the events printed are redacted first, and the state's chat prints its contact id.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from typing import Any

from events import ConversationState, redact
from events.conversation_events import (
    AgentJoined,
    AgentLeft,
    AgentMessageReceived,
    ChatEnded,
    ChatLeaveRequested,
    ChatLeft,
    ChatStarted,
    ChatStartFailed,
    ChatStartRequested,
    ConnectionOpened,
    ConnectionRenewed,
    ConnectionTokenKept,
    ContextUpdated,
    ContextUpdateRefused,
    ContextUpdateRequested,
    ConversationEvent,
    Disconnected,
    DisconnectRequested,
    FailoverSwitched,
    MessageRefused,
    MessageTranslated,
    ReturnedToBot,
    SlashActionDone,
    SlashActionFailed,
    SlashActionRequested,
    SlashActionStarted,
    SlashCommandReceived,
    SlashContentSent,
    TimerArmed,
    TimerCancelled,
    TimerFired,
    Transferred,
    TypingReceived,
    UserMessageFailed,
    UserMessageRequested,
    UserMessageResplit,
    UserMessageSent,
    UserMessageTranslated,
    UserMessageTranslationRequested,
    UserNotified,
    UserTypingRequested,
    UserTypingSent,
)

WHO_WIDTH = 16
TYPE_WIDTH = 24
# Where the second line of an event (what changed) starts: under its "who".
INDENT = " " * (6 + 14)

# Events that come from Connect's side of the chat (answers to the worker's calls, the chat's end).
_FROM_CONNECT = (
    ChatStarted, ChatStartFailed, ConnectionTokenKept, ConnectionOpened, ConnectionRenewed, UserMessageSent, UserMessageFailed,
    UserMessageResplit, MessageRefused, UserTypingSent, ContextUpdated, ContextUpdateRefused, Disconnected,
    ChatLeft, ChatEnded,
)
_FROM_THE_AGENT = (AgentJoined, AgentLeft, TypingReceived, SlashCommandReceived)


def day(recorded_at: float) -> str:
    return _utc(recorded_at).strftime("%Y-%m-%d UTC")


def event_lines(seq: int, recorded_at: float, event: ConversationEvent, before: ConversationState, after: ConversationState) -> list[str]:
    """The event's line, and a second one with what changed in the state, if anything did."""
    event = redact(event)
    time = _utc(recorded_at).strftime("%H:%M:%S.%f")[:-3]
    line = f"#{seq:<4} {time}  {who(event, before):<{WHO_WIDTH}} {type(event).__name__:<{TYPE_WIDTH}} {what(event)}"
    changed = changes(before, after)
    return [line.rstrip()] + ([f"{INDENT}→ {changed}"] if changed else [])


def who(event: ConversationEvent, before: ConversationState) -> str:
    bot = f"bot {event.bot_name}" if isinstance(event, Transferred) else f"bot {before.bot_name or ''}".rstrip()
    if isinstance(event, UserMessageRequested):
        return bot if event.origin == "user" else "worker"
    if isinstance(event, (Transferred, UserMessageTranslationRequested, UserTypingRequested, ContextUpdateRequested)):
        return bot
    if isinstance(event, DisconnectRequested):
        return bot if event.cause == "user" else "worker"
    if isinstance(event, AgentMessageReceived):
        return _agent(event.agent_name) if event.role == "AGENT" else f"Connect {event.role.lower()}"
    if isinstance(event, _FROM_THE_AGENT):
        return _agent(event.agent_name)
    if isinstance(event, _FROM_CONNECT):
        return "Connect"
    return "worker"


def what(event: ConversationEvent) -> str:
    describe = _WHAT.get(type(event))
    return describe(event) if describe is not None else ""


def changes(before: ConversationState, after: ConversationState) -> str:
    """What the event changed of what matters when reading a history: phase, region, chat, agent,
    pending effects, timers, the end."""
    changed: list[str] = []
    if before.phase != after.phase:
        changed.append(f"phase {before.phase}→{after.phase}")
    if before.target is not None and after.target is not None and before.target.region != after.target.region:
        changed.append(f"region {before.target.region}→{after.target.region}")
    if _contact(before) != _contact(after):
        changed.append(f"chat {_contact(after)}" if after.chat is not None else "chat left")
    if before.last_known_agent != after.last_known_agent:
        changed.append(f"agent {after.last_known_agent or '-'}")
    if before.context != after.context and before.phase != "new":
        changed.append("context updated")
    pending = [f"+{type(e).__name__}@{s}" for s, e in sorted(after.pending.items()) if s not in before.pending]
    pending += [f"-{type(e).__name__}@{s}" for s, e in sorted(before.pending.items()) if s not in after.pending]
    if pending:
        changed.append("pending " + " ".join(pending))
    timers_before = {timer.timer_id: timer for timer in before.armed_timers}
    timers_after = {timer.timer_id: timer for timer in after.armed_timers}
    timers = [f"+{t.rule.kind}@{_clock(t.due_at)}" for i, t in timers_after.items() if i not in timers_before]
    timers += [f"-{t.rule.kind}@{_clock(t.due_at)}" for i, t in timers_before.items() if i not in timers_after]
    if timers:
        changed.append("timers " + " ".join(timers))
    if before.end_reason != after.end_reason and after.end_reason is not None:
        changed.append(f"ended {after.end_reason}")
    return " · ".join(changed)


def _agent(name: str) -> str:
    return f"agent {name}" if name else "agent"


def _contact(state: ConversationState) -> str | None:
    return state.chat.contact_id if state.chat is not None else None


def _quoted(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _because(error: str | None) -> str:
    return f": {error}" if error else ""


def _utc(seconds: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC)


def _clock(seconds: float) -> str:
    return _utc(seconds).strftime("%H:%M:%S")


def _transferred(e: Transferred) -> str:
    return f"to worker {e.worker_id} in {e.target.region}, for {e.display_name}"


def _chat_start_requested(e: ChatStartRequested) -> str:
    carried = f", with the conversation up to #{e.transcript_until}" if e.transcript_until is not None else ""
    return f"start a chat in {e.target.region}{carried}"


def _user_message(e: UserMessageRequested) -> str:
    return _quoted(e.text) if e.origin == "user" else f"({e.origin}) {_quoted(e.text)}"


def _agent_message(e: AgentMessageReceived) -> str:
    return _quoted(e.content) + _as_written(e.original_content)


def _as_written(original: str | None) -> str:
    """What a message said before it was translated or had its links shortened, when it differs."""
    return f" (as written: {_quoted(original)})" if original is not None else ""


def _failover(e: FailoverSwitched) -> str:
    where = e.previous.region if e.previous is not None else "?"
    outcome = f"moves {where}→{e.target.region}" if e.moved else f"stays in {e.target.region}"
    return f"order {e.order} ({e.mode}): {outcome}"


def _chat_ended(e: ChatEnded) -> str:
    why = f": {e.error.code}: {e.error.message}" if e.error is not None else _because(e.detail)
    return e.reason + why


def _returned(e: ReturnedToBot) -> str:
    why = f" ({e.error.code})" if e.error is not None else ""
    return f"{e.session_end_reason}{why}, last agent {e.last_known_agent or '-'}"


_WHAT: dict[type, Callable[[Any], str]] = {
    Transferred: _transferred,
    ChatStartRequested: _chat_start_requested,
    ChatStarted: lambda e: f"contact {e.contact_id}, participant {e.participant_id}",
    ChatStartFailed: lambda e: f"#{e.request_seq}: {e.error}",
    ConnectionTokenKept: lambda e: "a new connection's token kept, before its socket opens",
    ConnectionOpened: lambda e: "chat socket subscribed",
    ConnectionRenewed: lambda e: "connection renewed before it expired",
    UserMessageRequested: _user_message,
    UserMessageSent: lambda e: f"#{e.request_seq} reached Connect as {e.connect_message_id}",
    UserMessageFailed: lambda e: f"#{e.request_seq}: {e.error}",
    UserMessageResplit: lambda e: f"#{e.request_seq} too long, sent in smaller pieces: {e.error}",
    MessageRefused: lambda e: f"bot message {e.bot_message_id}: {e.code}: {e.message}",
    UserMessageTranslationRequested: lambda e: _quoted(e.text),
    UserMessageTranslated: lambda e: _quoted(e.translated) if e.translated is not None else f"not translated{_because(e.error)}",
    MessageTranslated: lambda e: f"{_quoted(e.original)} → {_quoted(e.translated)}",
    UserTypingRequested: lambda e: "typing",
    UserTypingSent: lambda e: f"#{e.request_seq} typing reached Connect",
    AgentMessageReceived: _agent_message,
    AgentJoined: lambda e: "joined",
    AgentLeft: lambda e: "left",
    TypingReceived: lambda e: "typing",
    SlashCommandReceived: lambda e: e.command,
    SlashActionRequested: lambda e: f"{e.command} action {e.index}: {e.action.type} {e.action.value}",
    SlashActionStarted: lambda e: f"#{e.request_seq} called",
    SlashActionDone: lambda e: f"#{e.request_seq} done",
    SlashActionFailed: lambda e: f"#{e.request_seq}: {e.code}: {e.message}",
    SlashContentSent: lambda e: f"{e.command}: {_quoted(e.text)}{_as_written(e.original_text)}",
    UserNotified: lambda e: _quoted(e.text),
    ContextUpdateRequested: lambda e: json.dumps(e.context, sort_keys=True, ensure_ascii=False),
    ContextUpdated: lambda e: f"#{e.request_seq}{_because(e.error)}",
    ContextUpdateRefused: lambda e: f"{e.code}: {e.message}",
    DisconnectRequested: lambda e: "the user left" if e.cause == "user" else "the user went silent",
    Disconnected: lambda e: f"#{e.request_seq}",
    TimerArmed: lambda e: f"{e.rule.kind} due at {_clock(e.due_at)}",
    TimerFired: lambda e: e.rule.kind,
    TimerCancelled: lambda e: e.timer_id,
    FailoverSwitched: _failover,
    ChatLeaveRequested: lambda e: f"leave contact {e.contact_id} in {e.target.region}",
    ChatLeft: lambda e: f"#{e.request_seq}{_because(e.error)}",
    ChatEnded: _chat_ended,
    ReturnedToBot: _returned,
}
