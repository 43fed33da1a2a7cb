"""What the service's event log says of each conversation, read read-only from the store's SQLite file
after the run: its auto-disconnect timers (armed, fired, cancelled), what the worker told the agent
(notices: the customer messages starting "[connect worker] ", the notice to the agent a failover move
leaves behind among them), what became of the agent's slash commands (each command taken, its
actions, their outcomes, the content items sent) and how often a failover move started a started chat
again elsewhere."""

from __future__ import annotations

import sqlite3
from collections import Counter
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uuid

from actors.conversation import LEFT_BEHIND_NOTICE
from events import decode
from store.event_log import EventLog

STREAM_PREFIX = "conversation-"
TIMER_TYPES = ("TimerArmed", "TimerFired", "TimerCancelled")
NOTICE_TYPES = ("UserMessageRequested", "UserMessageSent", "UserMessageFailed")
SLASH_TYPES = ("Transferred", "SlashCommandReceived", "SlashActionRequested", "SlashActionStarted", "SlashActionDone",
               "SlashActionFailed", "SlashContentSent")
MOVE_TYPES = ("FailoverSwitched", "ChatLeaveRequested", "ChatLeft")
DONE = "done"  # a slash action's outcome when it worked; otherwise the failure's code


@dataclass
class TimerHistory:
    armed: set[str] = field(default_factory=set)
    fired: Counter[str] = field(default_factory=Counter)  # timer id -> TimerFired events (1 is right)
    fired_kinds: Counter[str] = field(default_factory=Counter)  # WARNING / DISCONNECT -> TimerFired events
    cancelled: set[str] = field(default_factory=set)
    # DISCONNECT's AgentMessage (the SendMessage intent its firing writes, origin "auto-disconnect"):
    # how many the log requested, and how many of those Connect confirmed (UserMessageSent).
    disconnect_messages: int = 0
    disconnect_messages_sent: int = 0

    def never_settled(self) -> set[str]:
        """Armed timers that neither fired nor were cancelled."""
        return self.armed - set(self.fired) - self.cancelled


@dataclass
class Notice:
    """A message the worker asked to send the agent; `outcome`: sent (Connect confirmed it), refused
    (Connect refused it), pending (neither, when the chat ended)."""

    client_token: str
    text: str
    outcome: str = "pending"


@dataclass
class SlashAction:
    """One action of a command taken: requested at `seq`; `started` once the log recorded the call
    before making it (executeApi); `outcome` DONE, a failure's code, or None (never finished)."""

    seq: int
    at: float
    command: str
    index: int
    kind: str
    value: str
    started: bool = False
    outcome: str | None = None
    settled_at: float | None = None


@dataclass
class SlashCommandTaken:
    connect_message_id: str
    command: str
    actions: list[SlashAction] = field(default_factory=list)


@dataclass
class SlashHistory:
    # The worker's commands as the transfer copied them: each action's type and value, in order.
    rules: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    taken: list[SlashCommandTaken] = field(default_factory=list)
    content: list[tuple[str, str]] = field(default_factory=list)  # (command, text) of each content item sent

    def actions(self) -> list[SlashAction]:
        return [action for command in self.taken for action in command.actions]


@dataclass
class ConversationLog:
    timers: TimerHistory = field(default_factory=TimerHistory)
    notices: list[Notice] = field(default_factory=list)
    slash: SlashHistory = field(default_factory=SlashHistory)
    moves: int = 0  # started chats a failover move started again elsewhere (each leaves a contact behind)
    switches: int = 0  # failover orders the conversation took (FailoverSwitched), moved or not


KINDS = TIMER_TYPES + NOTICE_TYPES + SLASH_TYPES + MOVE_TYPES


def read_log(store_path: Path) -> dict[str, ConversationLog]:
    """Every conversation's log, by conversation id, from the store's SQLite file."""
    with closing(sqlite3.connect(f"file:{store_path}?mode=ro", uri=True)) as db:
        rows = db.execute(
            f"SELECT stream, seq, type, data FROM events WHERE stream LIKE '{STREAM_PREFIX}%'"
            f" AND type IN ({', '.join('?' * len(KINDS))}) ORDER BY position", KINDS,
        ).fetchall()
    return _logs(rows)


def read_log_from(log: EventLog) -> dict[str, ConversationLog]:
    """The same from any event log (a DynamoDB table: the three-node mode), read in its global order."""
    rows: list[tuple[str, int, str, bytes]] = []
    position = 0
    while page := log.read_all(position, limit=1000):
        rows += [(e.stream, e.seq, e.type, e.data) for e in page
                 if e.stream.startswith(STREAM_PREFIX) and e.type in KINDS]
        position = page[-1].position
    return _logs(rows)


def _logs(rows: list[tuple[str, int, str, bytes]]) -> dict[str, ConversationLog]:
    readers: dict[str, _Reader] = {}
    for stream, seq, kind, data in rows:
        reader = readers.setdefault(stream.removeprefix(STREAM_PREFIX), _Reader())
        reader.take(seq, kind, decode(data))
    return {conversation_id: reader.log for conversation_id, reader in readers.items()}


def timer_histories(store_path: Path) -> dict[str, TimerHistory]:
    return {conversation_id: log.timers for conversation_id, log in read_log(store_path).items()}


class _Reader:
    """One conversation's events in order, into a ConversationLog."""

    def __init__(self) -> None:
        self.log = ConversationLog()
        self._notices: dict[int, Notice] = {}  # by the seq of their request
        self._disconnect_messages: set[int] = set()  # the seqs of DISCONNECT's AgentMessage requests
        self._received: dict[int, SlashCommandTaken] = {}  # by the seq of SlashCommandReceived
        self._actions: dict[int, SlashAction] = {}  # by the seq of their request

    def take(self, seq: int, kind: str, event: Any) -> None:
        timers, slash = self.log.timers, self.log.slash
        match kind:
            case "TimerArmed":
                timers.armed.add(event.timer_id)
            case "TimerFired":
                timers.fired[event.timer_id] += 1
                timers.fired_kinds[event.rule.kind] += 1
            case "TimerCancelled":
                timers.cancelled.add(event.timer_id)
            case "UserMessageRequested" if event.origin == "notice":
                self._notices[seq] = Notice(event.client_token, event.text)
                self.log.notices.append(self._notices[seq])
            case "UserMessageRequested" if event.origin == "auto-disconnect":
                self._disconnect_messages.add(seq)
                timers.disconnect_messages += 1
            case "UserMessageSent" if event.request_seq in self._disconnect_messages:
                timers.disconnect_messages_sent += 1
            case "UserMessageSent" | "UserMessageFailed" if event.request_seq in self._notices:
                self._notices[event.request_seq].outcome = "sent" if kind == "UserMessageSent" else "refused"
            case "Transferred":
                slash.rules = {rule.name: tuple((a.type, a.value) for a in rule.actions)
                               for rule in event.slash_commands}
            case "SlashCommandReceived":
                self._received[seq] = SlashCommandTaken(event.connect_message_id, event.command)
                slash.taken.append(self._received[seq])
            case "SlashActionRequested":
                self._take_request(seq, event)
            case "SlashActionStarted":
                self._actions[event.request_seq].started = True
            case "SlashActionDone" | "SlashActionFailed":
                action = self._actions[event.request_seq]
                action.outcome = DONE if kind == "SlashActionDone" else event.code
                action.settled_at = event.at
            case "SlashContentSent":
                slash.content.append((event.command, event.text))
            case "FailoverSwitched":
                self.log.switches += 1
            case "ChatLeaveRequested":
                # The agent left behind is told with a client token derived from the intent's (actors/conversation.py).
                self.log.moves += 1
                token = str(uuid.uuid5(uuid.UUID(event.client_token), "notice"))
                self._notices[seq] = Notice(token, LEFT_BEHIND_NOTICE)
                self.log.notices.append(self._notices[seq])
            case "ChatLeft" if event.error is None:
                self._notices[event.request_seq].outcome = "sent"

    def _take_request(self, seq: int, event: Any) -> None:
        action = SlashAction(seq, event.at, event.command, event.index, event.action.type, event.action.value)
        self._actions[seq] = action
        if event.index == 0:
            # A command's first action is requested in the same append as the command, right after it.
            self._received[seq - 1].actions.append(action)
            return
        # A later action is requested with the outcome of the one before it, in the same decision (same `at`).
        for taken in self.log.slash.taken:
            last = taken.actions[-1] if taken.actions else None
            if (last is not None and taken.command == event.command and last.index == event.index - 1
                    and last.outcome == DONE and last.settled_at == event.at):
                taken.actions.append(action)
                return
        raise ValueError(f"action {event.index} of {event.command} at seq {seq} follows no finished action")
