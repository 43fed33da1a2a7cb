"""The checker on fabricated evidence of the worker's own features: slash commands (commands never told
to the bot, content items once each, emails at most once per call and never silently missing, what the
agent is told) and translation (each side's message where the other reads it translated, once)."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Any

from tests.crash.bot import BotRecord, Sent
from tests.crash.checks import Evidence, check_conversation
from tests.crash.event_log import Notice, SlashAction, SlashCommandTaken, SlashHistory, TimerHistory
from tests.crash.service_process import BotMessage
from tests.crash.test_checks import JOINED, TEXTS, evidence, item, items_of

DONE_NOTICE = "[connect worker] /email: sendEmail done"
UNKNOWN_NOTICE = ("[connect worker] /email: sendEmail failed (OutcomeUnknown): the service restarted during the call "
                  "to sendEmail: it may or may not have run, and is not run again")
EMAIL = {"ToAddresses": ["c@example.com"], "Source": "YOUR_SOURCE@EMAIL.HERE"}


def notice_item(n: int, text: str, token: str) -> dict[str, Any]:
    return {**item(n, "CUSTOMER", text), "ClientToken": token}


def email_call(outcome: str | None = "done") -> SlashAction:
    return SlashAction(20, 1.0, "/email", 0, "executeApi", "sendEmail", started=True, outcome=outcome)


def slash_evidence() -> Evidence:
    """A clean run: the human agent greets, types /welcome (its content reaches the bot), /email (one
    email, the agent told it was done) and /nosuch (the agent told it is no command); the bot says one
    thing; the DISCONNECT ends it."""
    items = [
        item(1, "AGENT", kind="EVENT", content_type=JOINED),
        item(2, "AGENT", "Hello"),
        item(3, "AGENT", "/welcome"),
        item(4, "AGENT", "/email"),
        notice_item(5, DONE_NOTICE, "n1"),
        item(6, "CUSTOMER", "one"),
        item(7, "AGENT", "/nosuch"),
        notice_item(8, "[connect worker] /nosuch is not a command of this chat; the user did not see it.", "n2"),
        item(9, "CUSTOMER", "user went silent"),
    ]
    arrivals = [
        BotMessage("c:3", "c", 3, "AgentJoined"),
        BotMessage("c:4", "c", 4, "AgentMessage", "Hello", "AGENT", "i-2"),
        BotMessage("c:7", "c", 7, "AgentMessage", "Welcome, Kim!", "AGENT", None, slash_command="/welcome"),
        BotMessage("c:20", "c", 20, "UserNotified", "still there?"),
        BotMessage("c:21", "c", 21, "UserNotified", "closed"),
        BotMessage("c:30", "c", 30, "ReturnedToBot", context={"SessionEndReason": "UserLeft"}),
    ]
    timers = TimerHistory(armed={"t1", "t2"}, fired=Counter({"t1": 1, "t2": 1}),
                          fired_kinds=Counter({"WARNING": 1, "DISCONNECT": 1}), disconnect_messages=1,
                          disconnect_messages_sent=1)
    slash = SlashHistory(
        rules={"/welcome": (("content", "welcome"),), "/email": (("executeApi", "sendEmail"),)},
        taken=[SlashCommandTaken("i-3", "/welcome", [SlashAction(6, 1.0, "/welcome", 0, "content", "welcome",
                                                                 outcome="done")]),
               SlashCommandTaken("i-4", "/email", [email_call()]),
               SlashCommandTaken("i-7", "/nosuch")],
        content=[("/welcome", "Welcome, Kim!")],
    )
    notices = [Notice("n1", DONE_NOTICE, "sent"), Notice("n2", items[7]["Content"], "sent")]
    return Evidence("c", BotRecord("c", transferred=True, sent=[Sent("m0", "one", "accepted")]), arrivals,
                    [{"Items": items}], timers, commands=True, notices=notices, slash=slash, emails=[EMAIL])


def with_unknown_outcome(e: Evidence, *, emails: int, told: str = UNKNOWN_NOTICE) -> Evidence:
    """The /email call was started when the service was killed; the restart told the agent."""
    e.slash.taken[1].actions[0] = email_call("OutcomeUnknown")
    e.notices[0] = Notice("n1", told, "sent")
    items_of(e)[4] = notice_item(5, told, "n1")
    e.emails = [EMAIL] * emails
    return e


def test_a_clean_slash_run_passes_and_counts_commands_content_emails_and_notices() -> None:
    figures = check_conversation(slash_evidence(), TEXTS)
    assert figures.ok(), figures.problems
    assert (figures.agent_commands, figures.content_items, figures.emails, figures.notices) == (3, 1, 1, 2)
    assert figures.agent_messages == 1 and figures.bot_messages == 1


def test_a_command_told_to_the_bot_as_a_message_fails() -> None:
    e = slash_evidence()
    e.arrivals.insert(2, BotMessage("c:5", "c", 5, "AgentMessage", "/email", "AGENT", "i-4"))
    assert any("'/email' (i-4) reached the bot" in p for p in check_conversation(e, TEXTS).problems)


def test_a_notice_told_to_the_bot_fails() -> None:
    e = slash_evidence()
    e.arrivals.insert(2, BotMessage("c:5", "c", 5, "AgentMessage", DONE_NOTICE, "AGENT", "i-5"))
    assert any("the worker's notice" in p for p in check_conversation(e, TEXTS).problems)


def test_a_notice_connect_confirmed_but_missing_is_lost_and_one_the_log_never_asked_for_is_doubled() -> None:
    e = slash_evidence()
    del items_of(e)[4]
    assert check_conversation(e, TEXTS).lost == 1
    e = slash_evidence()
    items_of(e).insert(5, notice_item(10, DONE_NOTICE, "n9"))
    assert check_conversation(e, TEXTS).doubled_at_connect == 1


def test_a_notice_still_pending_when_the_chat_ended_may_be_missing() -> None:
    e = slash_evidence()
    e.notices[0].outcome = "pending"
    del items_of(e)[4]
    assert check_conversation(e, TEXTS).ok()


def test_a_content_item_told_twice_is_doubled_and_one_never_told_is_lost() -> None:
    e = slash_evidence()
    e.arrivals.insert(3, replace(e.arrivals[2], id="c:8", seq=8))
    assert check_conversation(e, TEXTS).doubled_at_bot == 1
    e = slash_evidence()
    del e.arrivals[2]
    figures = check_conversation(e, TEXTS)
    assert figures.lost == 1 and any("/welcome's content" in p for p in figures.problems)


def test_a_command_never_taken_and_an_action_never_finished_are_lost() -> None:
    e = slash_evidence()
    del e.slash.taken[2]
    assert any("'/nosuch' (i-7) was never taken" in p for p in check_conversation(e, TEXTS).problems)
    e = slash_evidence()
    e.slash.taken[0].actions[0].outcome = None
    e.slash.content.clear()
    del e.arrivals[2]
    assert any("never finished" in p for p in check_conversation(e, TEXTS).problems)


def test_an_email_call_done_must_be_at_ses_once() -> None:
    e = slash_evidence()
    e.emails = []
    assert check_conversation(e, TEXTS).lost == 1
    e.emails = [EMAIL, EMAIL]
    assert check_conversation(e, TEXTS).doubled_effects == 1


def test_a_call_of_unknown_outcome_may_have_sent_once_or_not_at_all_and_says_so_to_the_agent() -> None:
    for emails in (0, 1):
        figures = check_conversation(with_unknown_outcome(slash_evidence(), emails=emails), TEXTS)
        assert figures.ok(), figures.problems
        assert figures.calls_unknown == 1
    assert check_conversation(with_unknown_outcome(slash_evidence(), emails=2), TEXTS).doubled_effects == 1
    vague = "[connect worker] /email: sendEmail failed (OutcomeUnknown): something"
    assert any("may or may not have run" in p
               for p in check_conversation(with_unknown_outcome(slash_evidence(), emails=0, told=vague), TEXTS).problems)


def test_an_email_command_that_sent_nothing_and_told_the_agent_nothing_fails() -> None:
    e = with_unknown_outcome(slash_evidence(), emails=0)
    del e.notices[0]
    del items_of(e)[4]
    problems = check_conversation(e, TEXTS).problems
    assert any("the agent was told so 0 times" in p for p in problems)
    assert any("the agent was not told of every one" in p for p in problems)


def test_a_bot_message_is_owed_at_connect_as_the_bot_was_told_it_was_translated() -> None:
    e = evidence()
    e.arrivals.insert(-1, BotMessage("c:19", "c", 19, "MessageTranslated", "[en] one", message_id="m0",
                                     original_text="one"))
    items_of(e)[2]["Content"] = "[en] one"
    figures = check_conversation(e, TEXTS)
    assert figures.ok(), figures.problems
    assert figures.translated_bot == 1
    items_of(e)[2]["Content"] = "one"
    assert check_conversation(e, TEXTS).lost == 1


def test_a_translation_told_twice_is_doubled() -> None:
    e = evidence()
    translated = BotMessage("c:19", "c", 19, "MessageTranslated", "[en] one", message_id="m0", original_text="one")
    e.arrivals[-1:-1] = [translated, replace(translated, id="c:20", seq=20)]
    items_of(e)[2]["Content"] = "[en] one"
    assert check_conversation(e, TEXTS).doubled_at_bot == 1


def test_an_agent_message_is_told_as_written_or_translated_with_what_was_written() -> None:
    e = evidence()
    e.arrivals[1] = replace(e.arrivals[1], text="hola", original_text="Hi")
    figures = check_conversation(e, TEXTS)
    assert figures.ok(), figures.problems
    assert figures.translated_agent == 1
    e.arrivals[1] = replace(e.arrivals[1], original_text="Hello")
    assert any("the agent wrote 'Hi'" in p for p in check_conversation(e, TEXTS).problems)
    e.arrivals[1] = replace(e.arrivals[1], text="Hi there", original_text=None)
    assert any("the agent wrote 'Hi'" in p for p in check_conversation(e, TEXTS).problems)


def test_a_command_the_worker_lacks_must_be_answered_even_when_typed_after_the_end() -> None:
    e = slash_evidence()
    del e.notices[1]
    del items_of(e)[7]
    assert check_conversation(e, TEXTS).lost == 1
    e = slash_evidence()
    answer = "[connect worker] /help2 is not a command of this chat; the user did not see it."
    items_of(e).extend([item(10, "AGENT", "/help2"), notice_item(11, answer, "n3")])
    e.slash.taken.append(SlashCommandTaken("i-10", "/help2"))
    e.notices.append(Notice("n3", answer, "sent"))
    assert check_conversation(e, TEXTS).ok()


def test_more_content_items_or_emails_than_the_agent_typed_commands_for_fail_even_when_logged() -> None:
    e = slash_evidence()
    e.arrivals.insert(3, replace(e.arrivals[2], id="c:8", seq=8))
    e.slash.content.append(("/welcome", "Welcome, Kim!"))
    e.slash.taken[0].actions.append(SlashAction(9, 1.0, "/welcome", 0, "content", "welcome", outcome="done"))
    assert any("2 content items of /welcome sent (log), for 1 typed" in p for p in check_conversation(e, TEXTS).problems)
    e = slash_evidence()
    e.slash.taken[1].actions.append(email_call())
    e.emails = [EMAIL, EMAIL]
    assert any("for 1 email actions the agent's commands ask for" in p for p in check_conversation(e, TEXTS).problems)
