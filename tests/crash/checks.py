"""The checker: one conversation's three views after the run (what the bot sent and was told, what
Connect holds, the timers in the log) compared, as figures and named problems. Pure: no I/O, so it is
tested on fabricated evidence (tests/crash/test_checks.py) as well as run on real evidence.

What must hold, per conversation:
- one contact at Connect, and one more for each started chat a failover move started again elsewhere;
- Connect holds every bot message the API accepted exactly once, in the bot's order (as the bot was
  told it was translated, if it was: `MessageTranslated`), unless the bot was told it was refused
  (`MessageRefused` with its MessageId; then not at all); a message whose answer the bot never got
  and that was then refused (the conversation had ended), or that the bot was told Connect never
  confirmed before the chat ended (`MessageRefused` code ChatEnded), at most once;
- the bot was told, at least once, every message the agent side wrote before the chat's end (the
  DISCONNECT rule's message), in Connect's order, as written or, with `OriginalText` the written one,
  translated; each agent joined/left; each timer's UserMessage; and the hand-back, once, last, with
  the expected SessionEndReason;
- what the worker tells the agent (customer messages starting "[connect worker] ") is its own, not
  the bot's, and never reaches the bot; each one the log says Connect confirmed is there once (by its
  client token), and none is there that the log never asked for;
- with a worker's slash commands, an agent message that is one is never told to the bot; the rest
  (commands taken, content items, emails) in tests/crash/slash_checks.py;
- a webhook repeat carries an Id already delivered and the same content (counted, allowed); the same
  thing under two Ids is a doubling;
- every armed timer fired once or was cancelled; each DISCONNECT firing asked for its AgentMessage,
  which is at Connect once if Connect confirmed it (the log's UserMessageSent), and once or not at all
  if the chat ended before Connect confirmed it (the agent had left first: no one to send it to).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from events.slash_commands import NOTICE_PREFIX
from tests.crash.bot import Sent
from tests.crash.evidence import (
    Evidence,
    Figures,
    Problem,
    TimerTexts,
    is_command,
    is_notice,
    owed_items,
    owed_until,
)
from tests.crash.service_process import BotMessage
from tests.crash.slash_checks import check_slash_commands

__all__ = ["Evidence", "Figures", "TimerTexts", "check_conversation"]

UNCONFIRMED = "ChatEnded"  # MessageRefused's code for a message Connect never confirmed before the chat ended
JOINED = "application/vnd.amazonaws.connect.event.participant.joined"
LEFT = "application/vnd.amazonaws.connect.event.participant.left"


def check_conversation(evidence: Evidence, texts: TimerTexts) -> Figures:
    figures = Figures(conversations=1, bot_unanswered=evidence.bot.unanswered,
                      bot_refused_connections=evidence.bot.refused_connections, failover_moves=evidence.moves,
                      failover_switches=evidence.switches)
    cid = evidence.conversation_id

    def problem(what: str) -> None:
        figures.problems.append(f"{cid}: {what}")

    if not evidence.bot.transferred:
        problem("the transfer never went through")
    expected_contacts = 1 + evidence.moves
    if len(evidence.contacts) != expected_contacts:
        problem(f"{len(evidence.contacts)} contacts at Connect, not {expected_contacts}")
        figures.doubled_at_connect += max(0, len(evidence.contacts) - expected_contacts)
        if not evidence.contacts:
            figures.lost += 1
            return figures
    items = [i for record in evidence.contacts for i in record["Items"] if i.get("InTranscript", True)]
    firsts = _check_webhook(evidence, figures, problem)
    _check_bot_to_connect(evidence, items, firsts, texts, figures, problem)
    _check_connect_to_bot(evidence, items, firsts, texts, figures, problem)
    _check_notices(evidence, items, firsts, figures, problem)
    if evidence.commands:
        check_slash_commands(evidence, items, owed_until(items, texts), firsts, figures, problem)
    _check_end_and_timers(evidence, items, firsts, texts, figures, problem)
    return figures


def _check_bot_to_connect(evidence: Evidence, items: list[dict[str, Any]], firsts: list[BotMessage],
                          texts: TimerTexts, figures: Figures, problem: Problem) -> None:
    at_connect = [i["Content"] for i in items if i["Type"] == "MESSAGE" and i["ParticipantRole"] == "CUSTOMER"
                  and not is_notice(i)]
    counts = Counter(at_connect)
    translations = _translations(evidence, firsts, figures, problem)

    def owed_text(sent: Sent) -> str:
        return translations.get(sent.message_id, sent.text)

    refusals = {m.message_id: m.code for m in firsts if m.type == "MessageRefused"}
    told = {owed_text(s): refusals[s.message_id] for s in evidence.bot.sent
            if s.outcome == "accepted" and s.message_id in refusals}
    refused = {text for text, code in told.items() if code != UNCONFIRMED}
    unconfirmed = set(told) - refused
    figures.bot_messages_refused += len(refused)
    figures.bot_messages_unconfirmed += len(unconfirmed)
    for text in sorted(refused):
        if counts[text]:
            problem(f"bot message {text!r} is at Connect, but the bot was told it was refused")
    accepted = [owed_text(s) for s in evidence.bot.sent if s.outcome == "accepted" and owed_text(s) not in told]
    maybe = {owed_text(s) for s in evidence.bot.sent if s.outcome == "refused" and s.unanswered} | unconfirmed
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


def _translations(evidence: Evidence, firsts: list[BotMessage], figures: Figures, problem: Problem) -> dict[str, str]:
    """What the bot was told its messages became (`MessageTranslated`), by MessageId: what Connect must hold."""
    written = {s.message_id: s.text for s in evidence.bot.sent}
    translations: dict[str, str] = {}
    for told in (m for m in firsts if m.type == "MessageTranslated"):
        figures.translated_bot += 1
        if told.message_id in translations:
            figures.doubled_at_bot += 1
            problem(f"MessageTranslated for {told.message_id} told again under another Id ({told.id})")
        elif told.original_text != written.get(told.message_id):
            problem(f"MessageTranslated for {told.message_id} has OriginalText {told.original_text!r}, "
                    f"the bot wrote {written.get(told.message_id)!r}")
        translations.setdefault(told.message_id or "", told.text or "")
    return translations


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


def _check_connect_to_bot(evidence: Evidence, items: list[dict[str, Any]], firsts: list[BotMessage],
                          texts: TimerTexts, figures: Figures, problem: Problem) -> None:
    def relayed(item: dict[str, Any]) -> bool:
        return item["Type"] == "MESSAGE" and item["ParticipantRole"] != "CUSTOMER" and not is_command(item, evidence)

    agent_items = [i for i in items if relayed(i)]
    owed = [i["Id"] for i in owed_items(evidence.contacts, texts) if relayed(i)]
    figures.agent_messages += len(owed)
    # A content item an agent's command sent has no Connect item of its own: slash_checks.py counts those.
    agent_messages = [m for m in firsts if m.type == "AgentMessage" and m.slash_command is None]
    told = [m.connect_message_id for m in agent_messages]
    told_counts = Counter(told)
    for command in (i for i in items if is_command(i, evidence) and told_counts[i["Id"]]):
        problem(f"the agent's command {command['Content']!r} ({command['Id']}) reached the bot")
    written = {i["Id"]: i["Content"] for i in agent_items}
    for message in (m for m in agent_messages if m.connect_message_id in written):
        wrote = written[message.connect_message_id]
        if message.original_text is not None:
            figures.translated_agent += 1
        if (message.original_text or message.text) != wrote:
            problem(f"agent message {message.connect_message_id} told as {message.text!r} (OriginalText "
                    f"{message.original_text!r}); the agent wrote {wrote!r}")
    for connect_id, count in told_counts.items():
        if count > 1:
            figures.doubled_at_bot += count - 1
            problem(f"agent message {connect_id} told {count} times under different Ids")
    for item in agent_items:
        if item["Id"] in owed and not told_counts[item["Id"]]:
            figures.lost += 1
            problem(f"agent message {item['Content']!r} ({item['Id']}) never reached the bot")
    unknown = set(told) - {i["Id"] for i in items if i["Type"] == "MESSAGE" and i["ParticipantRole"] != "CUSTOMER"}
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


def _check_notices(evidence: Evidence, items: list[dict[str, Any]], firsts: list[BotMessage], figures: Figures,
                   problem: Problem) -> None:
    notices = [i for i in items if is_notice(i)]
    figures.notices += len(notices)
    for told in (m for m in firsts if (m.text or "").startswith(NOTICE_PREFIX)):
        problem(f"the bot was told the worker's notice for the agent: {told.text!r} ({told.id})")
    if evidence.notices is None:
        return
    at_connect = Counter(i.get("ClientToken") for i in notices)
    asked = {n.client_token for n in evidence.notices}
    for item in notices:
        if item.get("ClientToken") not in asked:
            figures.doubled_at_connect += 1
            problem(f"a notice at Connect the log never asked for: {item['Content']!r} ({item.get('ClientToken')})")
    for notice in evidence.notices:
        count = at_connect[notice.client_token]
        if count > 1:
            figures.doubled_at_connect += count - 1
            problem(f"the notice {notice.text!r} is at Connect {count} times")
        elif notice.outcome == "sent" and not count:
            figures.lost += 1
            problem(f"the notice {notice.text!r} is not at Connect, though the log says Connect confirmed it")
        elif notice.outcome == "refused" and count:
            problem(f"the notice {notice.text!r} is at Connect, though the log says Connect refused it")


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
    # Each DISCONNECT firing asks for its AgentMessage; Connect holds each one it confirmed exactly once,
    # and one the chat's end left unconfirmed (the agent had left: nobody to send it to) once or not at all.
    fired = timers.fired_kinds["DISCONNECT"]
    disconnects = sum(1 for i in items if i["Type"] == "MESSAGE" and i["ParticipantRole"] == "CUSTOMER"
                      and i["Content"] == texts.disconnect_agent)
    if timers.disconnect_messages != fired:
        figures.lost += max(0, fired - timers.disconnect_messages)
        problem(f"DISCONNECT fired {fired} times (log), its AgentMessage was asked for {timers.disconnect_messages} times")
    if not timers.disconnect_messages_sent <= disconnects <= fired:
        figures.doubled_at_connect += max(0, disconnects - fired)
        figures.lost += max(0, timers.disconnect_messages_sent - disconnects)
        problem(f"DISCONNECT fired {fired} times (log, {timers.disconnect_messages_sent} confirmed by Connect), "
                f"its AgentMessage is at Connect {disconnects} times")

