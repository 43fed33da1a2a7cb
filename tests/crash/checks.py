"""The checker: one conversation's three views after the run (what the bot sent and was told, what
Connect holds, the timers in the log) compared, as figures and named problems. Pure: no I/O, so it is
tested on fabricated evidence (tests/crash/test_checks.py) as well as run on real evidence.

What must hold, per conversation:
- one contact at Connect;
- Connect holds every bot message the API accepted exactly once, in the bot's order, unless the bot
  was told it was refused (`MessageRefused` with its MessageId; then not at all); a message whose
  answer the bot never got and that was then refused (the conversation had ended), or that the bot
  was told Connect never confirmed before the chat ended (`MessageRefused` code ChatEnded), at most once;
- the bot was told, at least once, every message the agent side wrote before the chat's end (the
  DISCONNECT rule's message), in Connect's order; each agent joined/left; each timer's UserMessage;
  and the hand-back, once, last, with the expected SessionEndReason;
- a webhook repeat carries an Id already delivered and the same content (counted, allowed); the same
  thing under two Ids is a doubling;
- every armed timer fired once or was cancelled; DISCONNECT's AgentMessage is at Connect as often as
  the log says DISCONNECT fired.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, fields
from collections.abc import Callable
from typing import Any

from tests.crash.bot import BotRecord
from tests.crash.event_log import TimerHistory
from tests.crash.service_process import BotMessage

Problem = Callable[[str], None]
UNCONFIRMED = "ChatEnded"  # MessageRefused's code for a message Connect never confirmed before the chat ended
JOINED = "application/vnd.amazonaws.connect.event.participant.joined"
LEFT = "application/vnd.amazonaws.connect.event.participant.left"


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
    problems: list[str] = field(default_factory=list)

    def __add__(self, other: Figures) -> Figures:
        total = Figures()
        for f in fields(Figures):
            setattr(total, f.name, getattr(self, f.name) + getattr(other, f.name))
        return total

    def ok(self) -> bool:
        return not self.problems and not self.lost and not self.doubled_at_connect and not self.doubled_at_bot


def check_conversation(evidence: Evidence, texts: TimerTexts) -> Figures:
    figures = Figures(conversations=1, bot_unanswered=evidence.bot.unanswered,
                      bot_refused_connections=evidence.bot.refused_connections)
    cid = evidence.conversation_id

    def problem(what: str) -> None:
        figures.problems.append(f"{cid}: {what}")

    if not evidence.bot.transferred:
        problem("the transfer never went through")
    if len(evidence.contacts) != 1:
        problem(f"{len(evidence.contacts)} contacts at Connect, not 1")
        figures.doubled_at_connect += max(0, len(evidence.contacts) - 1)
        if not evidence.contacts:
            figures.lost += 1
            return figures
    items = [i for record in evidence.contacts for i in record["Items"] if i.get("InTranscript", True)]
    firsts = _check_webhook(evidence, figures, problem)
    _check_bot_to_connect(evidence, items, firsts, texts, figures, problem)
    _check_connect_to_bot(items, firsts, texts, figures, problem)
    _check_end_and_timers(evidence, items, firsts, texts, figures, problem)
    return figures


def _check_bot_to_connect(evidence: Evidence, items: list[dict[str, Any]], firsts: list[BotMessage],
                          texts: TimerTexts, figures: Figures, problem: Problem) -> None:
    at_connect = [i["Content"] for i in items if i["Type"] == "MESSAGE" and i["ParticipantRole"] == "CUSTOMER"]
    counts = Counter(at_connect)
    refusals = {m.message_id: m.code for m in firsts if m.type == "MessageRefused"}
    told = {s.text: refusals[s.message_id] for s in evidence.bot.sent if s.outcome == "accepted" and s.message_id in refusals}
    refused = {text for text, code in told.items() if code != UNCONFIRMED}
    unconfirmed = set(told) - refused
    figures.bot_messages_refused += len(refused)
    figures.bot_messages_unconfirmed += len(unconfirmed)
    for text in sorted(refused):
        if counts[text]:
            problem(f"bot message {text!r} is at Connect, but the bot was told it was refused")
    accepted = [s.text for s in evidence.bot.sent if s.outcome == "accepted" and s.text not in told]
    maybe = {s.text for s in evidence.bot.sent if s.outcome == "refused" and s.unanswered} | unconfirmed
    figures.bot_messages += len(accepted)
    figures.bot_messages_maybe += len(maybe)
    for text in accepted:
        if counts[text] == 0:
            figures.lost += 1
            problem(f"bot message {text!r} (accepted) is not at Connect")
        elif counts[text] > 1:
            figures.doubled_at_connect += counts[text] - 1
            problem(f"bot message {text!r} is at Connect {counts[text]} times")
    for text in maybe:
        if counts[text] > 1:
            figures.doubled_at_connect += counts[text] - 1
            problem(f"bot message {text!r} (unanswered, or unconfirmed when the chat ended) is at Connect {counts[text]} times")
    owed = set(accepted)
    order = list(dict.fromkeys(t for t in at_connect if t in owed))
    if order != [t for t in accepted if counts[t]]:
        problem(f"bot messages at Connect out of order: {order} (sent {accepted})")
    known = owed | maybe | refused | {texts.disconnect_agent}
    for text in sorted(set(at_connect) - known):
        problem(f"a customer message at Connect the bot never sent: {text!r}")


def _check_webhook(evidence: Evidence, figures: Figures, problem: Problem) -> list[BotMessage]:
    """Repeats (same Id: the same content, counted) and the order of first arrivals; the firsts."""
    firsts: dict[str, BotMessage] = {}
    for message in evidence.arrivals:
        first = firsts.get(message.id)
        if first is None:
            firsts[message.id] = message
            continue
        figures.repeats_same_id += 1
        if first.content() != message.content():
            problem(f"webhook Id {message.id} came again with other content: {first} then {message}")
    ordered = list(firsts.values())
    figures.deliveries += len(ordered)
    seqs = [m.seq for m in ordered]
    if seqs != sorted(seqs):
        problem(f"webhook messages out of order (Seq in arrival order): {seqs}")
    return ordered


def _check_connect_to_bot(items: list[dict[str, Any]], firsts: list[BotMessage], texts: TimerTexts,
                          figures: Figures, problem: Problem) -> None:
    # What the agent side wrote before the DISCONNECT rule's message is owed to the bot; after it the
    # service is leaving the chat, and an answer Connect records then may or may not be told.
    end = next((n for n, i in enumerate(items) if i["Type"] == "MESSAGE" and i["ParticipantRole"] == "CUSTOMER"
                and i["Content"] == texts.disconnect_agent), len(items))
    agent_items = [i for i in items if i["Type"] == "MESSAGE" and i["ParticipantRole"] != "CUSTOMER"]
    owed = [i["Id"] for i in items[:end] if i["Type"] == "MESSAGE" and i["ParticipantRole"] != "CUSTOMER"]
    figures.agent_messages += len(owed)
    told = [m.connect_message_id for m in firsts if m.type == "AgentMessage"]
    told_counts = Counter(told)
    for connect_id, count in told_counts.items():
        if count > 1:
            figures.doubled_at_bot += count - 1
            problem(f"agent message {connect_id} told {count} times under different Ids")
    for item in agent_items:
        if item["Id"] in owed and not told_counts[item["Id"]]:
            figures.lost += 1
            problem(f"agent message {item['Content']!r} ({item['Id']}) never reached the bot")
    unknown = set(told) - {i["Id"] for i in agent_items}
    for connect_id in sorted(unknown):
        problem(f"the bot was told an agent message Connect does not hold: {connect_id}")
    owed_set = set(owed)
    if [c for c in dict.fromkeys(told) if c in owed_set] != [c for c in owed if told_counts[c]]:
        problem("agent messages reached the bot out of Connect's order")
    for content_type, kind in ((JOINED, "AgentJoined"), (LEFT, "AgentLeft")):
        at_connect = sum(1 for i in items if i["Type"] == "EVENT" and i["ParticipantRole"] == "AGENT"
                         and i.get("ContentType") == content_type)
        told_events = sum(1 for m in firsts if m.type == kind)
        if told_events < at_connect:
            figures.lost += at_connect - told_events
            problem(f"{kind}: {at_connect} at Connect, {told_events} told")
        elif told_events > at_connect:
            figures.doubled_at_bot += told_events - at_connect
            problem(f"{kind}: {at_connect} at Connect, {told_events} told")


def _check_end_and_timers(evidence: Evidence, items: list[dict[str, Any]], firsts: list[BotMessage],
                          texts: TimerTexts, figures: Figures, problem: Problem) -> None:
    returned = [m for m in firsts if m.type == "ReturnedToBot"]
    if len(returned) != 1:
        figures.lost += not returned
        figures.doubled_at_bot += max(0, len(returned) - 1)
        problem(f"{len(returned)} hand-backs told, not 1")
    elif firsts[-1] is not returned[0]:
        problem("the hand-back is not the last message told")
    elif returned[0].context.get("SessionEndReason") != evidence.expected_end:
        problem(f"handed back with {returned[0].context.get('SessionEndReason')}, not {evidence.expected_end}")

    timers = evidence.timers
    figures.timers_fired += sum(timers.fired.values())
    for timer_id, count in timers.fired.items():
        if count > 1:
            figures.timers_fired_twice += 1
            problem(f"timer {timer_id} fired {count} times")
    for timer_id in sorted(timers.never_settled()):
        figures.lost += 1
        problem(f"timer {timer_id} was armed and neither fired nor was cancelled")
    notified = Counter(m.text for m in firsts if m.type == "UserNotified")
    for kind, text in (("WARNING", texts.warning_user), ("DISCONNECT", texts.disconnect_user)):
        fired = timers.fired_kinds[kind]
        if notified[text] != fired:
            figures.lost += max(0, fired - notified[text])
            figures.doubled_at_bot += max(0, notified[text] - fired)
            problem(f"{kind} fired {fired} times (log), its UserMessage was told {notified[text]} times")
    disconnects = sum(1 for i in items if i["Type"] == "MESSAGE" and i["ParticipantRole"] == "CUSTOMER"
                      and i["Content"] == texts.disconnect_agent)
    if disconnects != timers.fired_kinds["DISCONNECT"]:
        figures.doubled_at_connect += max(0, disconnects - timers.fired_kinds["DISCONNECT"])
        figures.lost += max(0, timers.fired_kinds["DISCONNECT"] - disconnects)
        problem(f"DISCONNECT fired {timers.fired_kinds['DISCONNECT']} times (log), its AgentMessage is at Connect "
                f"{disconnects} times")
