"""The checker's part for a worker with slash commands, pure like tests/crash/checks.py. What must hold,
per conversation, of the commands the agent typed before the chat's end (the DISCONNECT rule's message):

- each was taken by the service once (the log's SlashCommandReceived, by Connect's message id), and
  each action it requested finished, done or failed; a command whose actions were all done ran every
  action its worker gives it; a command the worker lacks (`/help` too) was answered with a notice;
- every content item the log sent reached the bot exactly once (a webhook repeat with the same Id
  aside), as an AgentMessage with its SlashCommand, its placeholders filled;
- the seed's email connector (`sendEmail`, to the conversation's address): SES holds at least one email
  per call the log says was done, and at most one more per call that may have gone out unanswered (a
  restart found it started without an outcome and did not call again, or the call timed out); so a
  call the log says was not started before a kill is at SES exactly once;
- the agent was told each call's outcome once (a notice: "... done", "... failed (CODE)", and for an
  outcome a restart left unknown, that it "may or may not have run"), and every email command typed
  that left no email at SES has a failure notice at Connect, or one still pending when the chat ended.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from events.slash_commands import NOTICE_PREFIX
from tests.crash.event_log import DONE, SlashAction, SlashHistory
from tests.crash.evidence import COMMAND, Evidence, Figures, Problem, is_command
from tests.crash.service_process import BotMessage

EMAIL_CONNECTOR = "sendEmail"  # the alias of the seed's email connector
UNKNOWN = "OutcomeUnknown"  # the code of a call a restart found started without an outcome
MAY_HAVE_GONE_OUT = frozenset({UNKNOWN, "unreachable"})  # "unreachable" covers a call that timed out
MAYBE_RAN = "may or may not have run"
_OUTCOME_NOTICE = re.compile(re.escape(NOTICE_PREFIX) + rf"(/\S+): {EMAIL_CONNECTOR} (?:(done)$|failed \(([^)]+)\))")
_ANSWERS = ("commands of this chat:", "is not a command of this chat")  # what /help and an unknown command get


def check_slash_commands(evidence: Evidence, items: list[dict[str, Any]], end: int, firsts: list[BotMessage],
                         figures: Figures, problem: Problem) -> None:
    """`end`: the index in `items` of the DISCONNECT rule's message (or their length)."""
    typed = [(n, i) for n, i in enumerate(items) if is_command(i, evidence)]
    figures.agent_commands += len(typed)
    owed = {i["Id"]: i["Content"] for n, i in typed if n < end}
    typed_names = Counter(_name(i["Content"]) for _, i in typed)
    _check_taken(evidence, owed, figures, problem)
    _check_content(evidence.slash, firsts, typed_names, figures, problem)
    _check_emails(evidence, typed_names, figures, problem)
    if evidence.notices is not None:
        _check_agent_told(evidence, items, owed, figures, problem)


def _check_taken(evidence: Evidence, owed: dict[str, str], figures: Figures, problem: Problem) -> None:
    slash = evidence.slash
    taken = Counter(t.connect_message_id for t in slash.taken)
    for connect_id, text in owed.items():
        if not taken[connect_id]:
            figures.lost += 1
            problem(f"the agent's command {text!r} ({connect_id}) was never taken")
    for connect_id, count in taken.items():
        if count > 1:
            figures.doubled_effects += count - 1
            problem(f"the agent's command {connect_id} was taken {count} times")
    unanswered = sum(1 for t in slash.taken if not slash.rules.get(t.command))
    for command in (t for t in slash.taken if t.connect_message_id in owed):
        rule = slash.rules.get(command.command, ())
        for action in command.actions:
            if action.outcome is None:
                figures.lost += 1
                problem(f"{command.command} ({command.connect_message_id}): its {action.kind} {action.value} "
                        "never finished")
        if all(a.outcome == DONE for a in command.actions) and len(command.actions) < len(rule):
            figures.lost += 1
            problem(f"{command.command} ({command.connect_message_id}) ran {len(command.actions)} of its "
                    f"{len(rule)} actions")
    answers = sum(1 for n in evidence.notices or [] if any(answer in n.text for answer in _ANSWERS))
    if evidence.notices is not None and answers != unanswered:
        figures.lost += max(0, unanswered - answers)
        figures.doubled_at_connect += max(0, answers - unanswered)
        problem(f"{unanswered} commands the worker lacks (or /help) taken, {answers} answers to the agent in the log")


def _check_content(slash: SlashHistory, firsts: list[BotMessage], typed: Counter[str], figures: Figures,
                   problem: Problem) -> None:
    told = Counter((m.slash_command, m.text) for m in firsts if m.type == "AgentMessage" and m.slash_command)
    sent = Counter(slash.content)
    figures.content_items += sum(told.values())
    # No more content items sent than the commands the agent typed (at Connect) ask for.
    for command, count in Counter(command for command, _ in sent.elements()).items():
        most = typed[command] * sum(1 for kind, _ in slash.rules.get(command, ()) if kind == "content")
        if count > most:
            figures.doubled_at_bot += count - most
            problem(f"{count} content items of {command} sent (log), for {typed[command]} typed")
    # And the log's own account: one content item per content action done.
    done = Counter(a.command for a in slash.actions() if a.kind == "content" and a.outcome == DONE)
    if done != Counter(command for command, _ in sent.elements()):
        problem(f"content actions done {dict(done)}, content items sent {dict(sent)} (log)")
    for command, text in sorted(told.keys() | sent.keys(), key=str):
        if told[command, text] < sent[command, text]:
            figures.lost += sent[command, text] - told[command, text]
        elif told[command, text] > sent[command, text]:
            figures.doubled_at_bot += told[command, text] - sent[command, text]
        if told[command, text] != sent[command, text]:
            problem(f"{command}'s content {text!r}: sent {sent[command, text]} times (log), "
                    f"told {told[command, text]} times (distinct Ids)")
        if "{{" in (text or ""):
            problem(f"{command}'s content reached the bot unfilled: {text!r}")


def _email_calls(slash: SlashHistory) -> list[SlashAction]:
    return [a for a in slash.actions() if a.kind == "executeApi" and a.value == EMAIL_CONNECTOR]


def _check_emails(evidence: Evidence, typed: Counter[str], figures: Figures, problem: Problem) -> None:
    calls = _email_calls(evidence.slash)
    done = sum(a.outcome == DONE for a in calls)
    may_have_gone_out = sum(a.started and a.outcome in MAY_HAVE_GONE_OUT for a in calls)
    emails = len(evidence.emails)
    figures.emails += emails
    unknown = sum(a.outcome == UNKNOWN for a in calls)
    figures.calls_unknown += unknown
    figures.calls_unknown_sent += min(unknown, max(0, emails - done))
    if emails < done:
        figures.lost += done - emails
        problem(f"{done} email calls done (log), {emails} emails at SES")
    elif emails > done + may_have_gone_out:
        figures.doubled_effects += emails - done - may_have_gone_out
        problem(f"{emails} emails at SES for {done} calls done and {may_have_gone_out} that may have gone out")
    rules = evidence.slash.rules
    most = sum(count * sum(1 for action in rules.get(name, ()) if action == ("executeApi", EMAIL_CONNECTOR))
               for name, count in typed.items())
    if emails > most:
        problem(f"{emails} emails at SES for {most} email actions the agent's commands ask for")


def _check_agent_told(evidence: Evidence, items: list[dict[str, Any]], owed: dict[str, str], figures: Figures,
                      problem: Problem) -> None:
    notices = evidence.notices or []
    outcomes = Counter((a.command, a.outcome) for a in _email_calls(evidence.slash) if a.outcome is not None)
    told: Counter[tuple[str, str]] = Counter()
    for notice in notices:
        if (match := _OUTCOME_NOTICE.match(notice.text)) is not None:
            told[match[1], match[2] or match[3]] += 1
            if match[3] == UNKNOWN and MAYBE_RAN not in notice.text:
                problem(f"the notice of an unknown outcome does not say it {MAYBE_RAN}: {notice.text!r}")
    for command, outcome in sorted(outcomes.keys() | told.keys()):
        if outcomes[command, outcome] != told[command, outcome]:
            figures.lost += max(0, outcomes[command, outcome] - told[command, outcome])
            figures.doubled_at_connect += max(0, told[command, outcome] - outcomes[command, outcome])
            problem(f"{command}: {outcomes[command, outcome]} email calls ended {outcome} (log), the agent was "
                    f"told so {told[command, outcome]} times")

    # From the outside: each email command typed left an email at SES or a failure notice for the agent.
    rules = evidence.slash.rules
    first_emails = sum(1 for text in owed.values()
                       if rules.get(_name(text), ())[:1] == (("executeApi", EMAIL_CONNECTOR),))
    failures_at_connect = sum(1 for i in items if _is_failure_notice(i.get("Content") or ""))
    failures_pending = sum(1 for n in notices if n.outcome == "pending" and _is_failure_notice(n.text))
    emails = len(evidence.emails)
    if emails + failures_at_connect + failures_pending < first_emails:
        problem(f"{first_emails} email commands typed; {emails} emails at SES, {failures_at_connect} failure "
                f"notices at Connect and {failures_pending} pending when the chat ended: the agent was not told of "
                "every one")


def _is_failure_notice(text: str) -> bool:
    match = _OUTCOME_NOTICE.match(text)
    return match is not None and match[3] is not None


def _name(text: str) -> str:
    match = COMMAND.match(text)
    return match[1] if match else ""
