"""The hand-back: what the bot finds in its context when the conversation returns."""

from __future__ import annotations

from events import decode, handback
from events.commands import ChatEndedReceived, ContextChanged, ParticipantLeftReceived
from events.conversation_events import ReturnedToBot
from tests.events.scenario import Run, of_type


def ended_with_agent(name: str) -> ReturnedToBot:
    run = Run().connected().with_agent(name)
    run(ParticipantLeftReceived(at=7, message_id="left-1", role="AGENT", display_name=name))
    [returned] = of_type(run(ChatEndedReceived(at=8, message_id="ended-1")), ReturnedToBot)
    return returned


def test_handback_carries_last_known_agent() -> None:
    payload = handback(ended_with_agent("Ana"))
    assert payload["LastKnownAgent"] == {"AgentName": "Ana"}


def test_handback_merges_the_three_items_and_the_region_that_served_it_into_the_bot_context() -> None:
    assert handback(ended_with_agent("Ana")) == {
        "FirstName": "Bo",
        "SessionEndReason": "AgentLeft",
        "LastKnownAgent": {"AgentName": "Ana"},
        "ParticipantId": "participant-1",
        "ConnectRegion": {"Region": "us-east-1", "FailoverRegion": None},
    }


def test_handback_carries_the_latest_context_from_the_bot() -> None:
    run = Run().connected().with_agent()
    run(ContextChanged(at=3, context={"FirstName": "Bo", "Ticket": "T-1"}))
    [returned] = of_type(run(ChatEndedReceived(at=8, message_id="ended-1")), ReturnedToBot)
    assert handback(returned)["Ticket"] == "T-1"


def test_handback_names_the_agent_who_spoke_last() -> None:
    run = Run().connected().with_agent("Ana").with_agent("Raj")
    run.agent_says("I take over", at=5, name="Raj")
    [returned] = of_type(run(ChatEndedReceived(at=8, message_id="ended-1")), ReturnedToBot)
    assert handback(returned)["LastKnownAgent"] == {"AgentName": "Raj"}


def test_handback_without_any_agent_has_no_last_known_agent() -> None:
    run = Run().connected()
    [returned] = of_type(run(ChatEndedReceived(at=8, message_id="ended-1")), ReturnedToBot)
    payload = handback(returned)
    assert payload["LastKnownAgent"] is None and payload["SessionEndReason"] == "Error"


def test_handback_items_override_context_keys_of_the_same_name() -> None:
    run = Run().connected(context={"SessionEndReason": "stale"}).with_agent()
    [returned] = of_type(run(ChatEndedReceived(at=8, message_id="ended-1")), ReturnedToBot)
    assert handback(returned)["SessionEndReason"] == "AgentLeft"


def test_a_handback_logged_before_errors_were_kept_decodes_and_has_no_error() -> None:
    old = b'{"type":"ReturnedToBot","v":1,"at":9.0,"session_end_reason":"Error","last_known_agent":null,' \
          b'"participant_id":null,"context":{"FirstName":"Bo"}}'
    returned = decode(old)
    assert isinstance(returned, ReturnedToBot) and returned.error is None
    assert "Error" not in handback(returned) and handback(returned)["SessionEndReason"] == "Error"
