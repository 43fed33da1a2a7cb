"""What the checker (tests/crash/checks.py) compares for one conversation, and the figures it sums:
the bot's record and what its webhook got, Connect's contacts and SES's emails, and what the service's
log says; with the few rules the checks share (which Connect items are commands, notices, owed)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

from actors.conversation import LEFT_BEHIND_NOTICE
from events.slash_commands import NOTICE_PREFIX
from tests.crash.bot import BotRecord
from tests.crash.event_log import Notice, SlashHistory, TimerHistory
from tests.crash.service_process import BotMessage

Problem = Callable[[str], None]
# README, "Slash commands": an agent message whose first word starts with "/" (and holds no other "/").
COMMAND = re.compile(r"\s*(/[^\s/]+)(?:\s|$)")  # the command's name: group 1


@dataclass(frozen=True)
class TimerTexts:
    """The worker's auto-disconnect rule texts: how a timer's effects are recognised."""

    warning_user: str
    disconnect_user: str
    disconnect_agent: str


@dataclass
class Evidence:
    conversation_id: str
    bot: BotRecord
    arrivals: list[BotMessage]  # webhook POSTs in arrival order, repeats included
    contacts: list[dict[str, Any]]  # Connect's admin records of this conversation's contacts
    timers: TimerHistory
    expected_end: str = "UserLeft"
    commands: bool = False  # the worker has SlashCommands: an agent message starting with "/" is a command
    notices: list[Notice] | None = None  # what the log asked to tell the agent (None: not read, not checked)
    slash: SlashHistory = field(default_factory=SlashHistory)  # the agent's commands as the log took them
    emails: list[dict[str, Any]] = field(default_factory=list)  # what SES sent to `<conversation id>@...`
    moves: int = 0  # started chats a failover move started again elsewhere: one more contact each
    switches: int = 0  # failover orders the conversation took, moved or not


@dataclass
class Figures:
    """Sums over conversations; `problems` must stay empty, and so must lost and doubled."""

    conversations: int = 0
    bot_messages: int = 0  # accepted by the API, so owed to Connect
    bot_messages_maybe: int = 0  # unanswered, then refused: allowed at Connect once or not at all
    bot_messages_refused: int = 0  # accepted, then the bot was told Connect refused them
    bot_messages_unconfirmed: int = 0  # accepted, then told the chat ended first: at Connect once or not at all
    bot_unanswered: int = 0  # requests that reached the service and got no answer (the kill), sent again
    bot_refused_connections: int = 0  # attempts while the service was down, sent again
    agent_messages: int = 0  # written at Connect by the agent side, owed to the bot
    deliveries: int = 0  # distinct webhook Ids
    repeats_same_id: int = 0
    lost: int = 0
    doubled_at_connect: int = 0
    doubled_at_bot: int = 0  # the same thing told under two Ids
    timers_fired: int = 0
    timers_fired_twice: int = 0
    notices: int = 0  # what the worker told the agent, at Connect
    agent_commands: int = 0  # slash commands the agent typed, at Connect
    content_items: int = 0  # distinct webhook Ids of content items the commands sent
    emails: int = 0  # at SES
    calls_unknown: int = 0  # connector calls a restart found started without an outcome (not made again)
    calls_unknown_sent: int = 0  # of those, the emails that had gone out (SES holds more than the calls done)
    doubled_effects: int = 0  # a command taken twice, an email beyond one per call
    translated_bot: int = 0  # bot messages the bot was told were translated (MessageTranslated)
    translated_agent: int = 0  # agent messages told translated (with OriginalText)
    failover_moves: int = 0  # started chats a failover move started again in the other region
    failover_switches: int = 0  # failover orders taken by conversations (FailoverSwitched), moved or not
    problems: list[str] = field(default_factory=list)

    def __add__(self, other: Figures) -> Figures:
        total = Figures()
        for f in fields(Figures):
            setattr(total, f.name, getattr(self, f.name) + getattr(other, f.name))
        return total

    def ok(self) -> bool:
        return (not self.problems and not self.lost and not self.doubled_at_connect and not self.doubled_at_bot
                and not self.doubled_effects)


def is_command(item: dict[str, Any], evidence: Evidence) -> bool:
    return (evidence.commands and item["Type"] == "MESSAGE" and item["ParticipantRole"] == "AGENT"
            and bool(COMMAND.match(item["Content"] or "")))


def is_notice(item: dict[str, Any]) -> bool:
    return (item["Type"] == "MESSAGE" and item["ParticipantRole"] == "CUSTOMER"
            and (item["Content"] or "").startswith(NOTICE_PREFIX))


def owed_until(items: list[dict[str, Any]], texts: TimerTexts) -> int:
    """The index of the DISCONNECT rule's message at Connect, or of the notice to the agent a failover
    move leaves behind (or the end): what the agent side wrote before it is owed to the bot; after it
    the service is leaving the chat, and an answer Connect records then may or may not be told."""
    return next((n for n, i in enumerate(items) if i["Type"] == "MESSAGE" and i["ParticipantRole"] == "CUSTOMER"
                 and i["Content"] in (texts.disconnect_agent, LEFT_BEHIND_NOTICE)), len(items))


def owed_items(contacts: list[dict[str, Any]], texts: TimerTexts) -> list[dict[str, Any]]:
    """Of each contact (oldest first), the items in the transcript up to where the service began
    leaving it (`owed_until`)."""
    owed = []
    for record in contacts:
        items = [i for i in record["Items"] if i.get("InTranscript", True)]
        owed += items[:owed_until(items, texts)]
    return owed
