"""Auto-disconnect end to end, as a bot, a user and an agent meet it: a worker with the seed's WARNING
(1 s) and DISCONNECT (2 s), the service and the local Amazon Connect as processes of their own, the
bot on the HTTP API and its webhook, the agent on Connect's agent API.

Three tests read one quiet chat (the agent speaks once, the user never answers); one plays a chat
where the user answers."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from events.conversation_events import ConversationEvent
from tests.crash.service_process import BotMessage
from tests.e2e.stage import (
    AGENT,
    DEADLINE,
    DISCONNECT_TEXT,
    LATE,
    WARNING_AGENT,
    WARNING_USER,
    Stage,
    of_type,
    wait_for,
    wait_until_past,
)

WARNING_SECONDS = 1
DISCONNECT_SECONDS = 2
SECONDS = {"WARNING": WARNING_SECONDS, "DISCONNECT": DISCONNECT_SECONDS}
LEFT = "application/vnd.amazonaws.connect.event.participant.left"
CHAT_ENDED = "application/vnd.amazonaws.connect.event.chat.ended"

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def stage(start_stage: Callable[[dict[str, tuple[int, int]]], Stage]) -> Stage:
    return start_stage({"quick": (WARNING_SECONDS, DISCONNECT_SECONDS)})


@dataclass
class QuietChat:
    """A chat the agent spoke in once and the user never answered, after its hand-back."""

    agent_spoke_at: float  # Connect's time of the agent's message
    armed_before_the_agent_spoke: list[Any]
    logged: list[ConversationEvent]
    told: list[BotMessage]  # what the bot was told, once each, in order
    record: dict[str, Any]  # Connect's full record of the contact
    agent_sees: list[dict[str, Any]]


@pytest.fixture(scope="module")
def quiet_chat(stage: Stage) -> QuietChat:
    contact_id = stage.transfer("quiet", "quick")
    armed_before = of_type(stage.logged("quiet"), "TimerArmed")
    spoke_at = stage.agent_says(contact_id, "Hello, I am Hal. How can I help?")
    stage.settled("quiet")
    return QuietChat(spoke_at, armed_before, stage.logged("quiet"), stage.webhook.once_each("quiet"),
                     stage.connect.record(contact_id), stage.agent_sees(contact_id))


def test_the_agents_message_starts_the_timers_and_each_fires_its_seconds_after_it(quiet_chat: QuietChat) -> None:
    assert quiet_chat.armed_before_the_agent_spoke == [], "the agent joining started timers"
    armed = of_type(quiet_chat.logged, "TimerArmed")
    assert sorted(timer.rule.kind for timer in armed) == ["DISCONNECT", "WARNING"]
    fired = of_type(quiet_chat.logged, "TimerFired")
    for timer in armed:
        due = quiet_chat.agent_spoke_at + SECONDS[timer.rule.kind]
        firings = [f.at for f in fired if f.timer_id == timer.timer_id]
        assert len(firings) == 1, f"{timer.rule.kind} fired {len(firings)} times"
        assert due <= firings[0] <= due + LATE, (
            f"{timer.rule.kind} fired {firings[0] - due:+.3f} s from {SECONDS[timer.rule.kind]} s after the agent's message")


def test_the_warning_tells_the_user_through_the_bot_and_the_agent_through_connect(quiet_chat: QuietChat) -> None:
    # The UserMessage is for the user: the bot is told it (UserNotified), Connect never sees it.
    notified = [told for told in quiet_chat.told if told.type == "UserNotified"]
    assert [told.text for told in notified] == [WARNING_USER, DISCONNECT_TEXT]
    assert notified[0].arrived >= quiet_chat.agent_spoke_at + WARNING_SECONDS
    assert not any(WARNING_USER in (item.get("Content") or "") for item in quiet_chat.record["Items"])
    # The AgentMessage is for the agent: the service holds only the customer's side of the chat, so it
    # is sent as the customer's message (with its intent's client token), and the agent reads it in the
    # chat; the bot is never told it (Connect's echo of the customer's own message is dropped).
    requested = [r for r in of_type(quiet_chat.logged, "UserMessageRequested") if r.text == WARNING_AGENT]
    assert [r.origin for r in requested] == ["auto-disconnect"]
    at_connect = [item for item in quiet_chat.record["Items"] if item.get("Content") == WARNING_AGENT]
    assert [(i["ParticipantRole"], i["Type"], i["ClientToken"]) for i in at_connect] == [
        ("CUSTOMER", "MESSAGE", requested[0].client_token)]
    assert [item["Content"] for item in quiet_chat.agent_sees if item.get("Content") == WARNING_AGENT] == [WARNING_AGENT]
    assert not any(told.text == WARNING_AGENT for told in quiet_chat.told)


def test_the_disconnect_ends_the_chat_and_hands_back_to_the_bot_as_user_left(quiet_chat: QuietChat) -> None:
    fired = Counter(event.rule.kind for event in of_type(quiet_chat.logged, "TimerFired"))
    assert fired == {"WARNING": 1, "DISCONNECT": 1}
    assert [d.cause for d in of_type(quiet_chat.logged, "DisconnectRequested")] == ["inactivity"]
    # Connect: the DISCONNECT's AgentMessage, then the customer leaves and the chat is over.
    shown = [item for item in quiet_chat.record["Items"] if item["InTranscript"]]
    assert [(i["ParticipantRole"], i.get("Content") or i["ContentType"]) for i in shown[-3:]] == [
        ("CUSTOMER", DISCONNECT_TEXT), ("CUSTOMER", LEFT), ("SYSTEM", CHAT_ENDED)]
    assert quiet_chat.record["State"] == "ENDED"
    # The bot: the DISCONNECT's UserMessage, then the hand-back, last and once: the user went silent.
    assert [told.type for told in quiet_chat.told[-2:]] == ["UserNotified", "ReturnedToBot"]
    assert [told.type for told in quiet_chat.told].count("ReturnedToBot") == 1
    returned = quiet_chat.told[-1]
    assert returned.arrived >= quiet_chat.agent_spoke_at + DISCONNECT_SECONDS
    context = returned.context
    assert context["SessionEndReason"] == "UserLeft"
    assert context["LastKnownAgent"] == {"AgentName": AGENT}
    assert "Error" not in context


def test_a_user_message_cancels_the_timers_and_the_next_agent_message_arms_them_again(stage: Stage) -> None:
    contact_id = stage.transfer("answered", "quick")
    first_spoke_at = stage.agent_says(contact_id, "What is your order number?")
    first = wait_for(lambda: of_type(stage.logged("answered"), "TimerArmed"), "the agent's message to arm timers",
                     DEADLINE)
    assert len(first) == 2

    stage.bot_says("answered", "m-1", "It is 4711.")  # a 202: the decision, cancellations included, is logged
    cancelled = {event.timer_id for event in of_type(stage.logged("answered"), "TimerCancelled")}
    assert cancelled == {timer.timer_id for timer in first}
    wait_until_past(first_spoke_at + WARNING_SECONDS + LATE, "the moment the first WARNING would have fired")
    assert "UserNotified" not in stage.told_types("answered")

    second_spoke_at = stage.agent_says(contact_id, "Thank you, I am looking.")
    stage.handed_back("answered")
    logged = stage.logged("answered")
    fired = {event.timer_id: event.at for event in of_type(logged, "TimerFired")}
    assert not {timer.timer_id for timer in first} & set(fired), "a cancelled timer fired"
    second = [timer for timer in of_type(logged, "TimerArmed") if timer not in first]
    assert sorted(timer.rule.kind for timer in second) == ["DISCONNECT", "WARNING"]
    for timer in second:
        due = second_spoke_at + SECONDS[timer.rule.kind]
        assert due <= fired[timer.timer_id] <= due + LATE
    notified = [told for told in stage.webhook.once_each("answered") if told.type == "UserNotified"]
    assert [told.text for told in notified] == [WARNING_USER, DISCONNECT_TEXT]
    assert notified[0].arrived >= second_spoke_at + WARNING_SECONDS
