"""GET /v1/conversations/{id}/timeline, the operator's view of a conversation: an admin client's only,
every event as `run.py replay` exports it (tokens redacted), the phase after each and the state; and
GET /v1/client, which tells a token's holder which client it is (the operator page checks it)."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from msgspec.structs import replace

from commands.export import exported_event
from events import REDACTED
from store.conversations import conversation_stream, replay
from tests.api.conftest import Served
from tests.delivery.conversations import append, chat, started
from tests.events.scenario import TOKEN, Run, transfer

CONNECTION_TOKEN = "connection-token"  # tests/delivery/conversations.py's


def a_chat_with_an_agent(served: Served, conversation_id: str) -> Run:
    """Alice's conversation: chat started (a participant token), connected (a connection token), Ana
    joined and wrote twice, the user warned of inactivity, the DISCONNECT timer still armed."""
    run = chat(started(conversation_id, "https://bot.example/hook", served.alice.client.id), agent_messages=2)
    append(served.store, conversation_id, run.events)
    return run


def test_an_admin_reads_every_event_as_replay_exports_it_with_no_token(served: Served) -> None:
    run = a_chat_with_an_agent(served, "alices")

    status, timeline = served.api(served.admin).call("GET", "/v1/conversations/alices/timeline")

    assert status == 200, timeline
    exported = json.loads(json.dumps(
        [exported_event(stored) for stored in served.store.read_stream(conversation_stream("alices"))]
    ))
    assert [(step["Seq"], step["Type"]) for step in timeline["Events"]] == [
        (event["seq"], event["event"]["type"]) for event in exported
    ]
    assert [step["Event"] for step in timeline["Events"]] == [
        {key: value for key, value in event["event"].items() if key != "type"} for event in exported
    ]
    assert [datetime.fromisoformat(step["RecordedAt"]).timestamp() for step in timeline["Events"]] == pytest.approx(
        [stored.recorded_at for stored in served.store.read_stream(conversation_stream("alices"))], abs=1e-6
    )
    assert [step["Phase"] for step in timeline["Events"]] == [
        step.state.phase for step in replay(served.store, "alices")
    ]
    [chat_started] = [step["Event"] for step in timeline["Events"] if step["Type"] == "ChatStarted"]
    assert chat_started["participant_token"] == REDACTED
    [opened] = [step["Event"] for step in timeline["Events"] if step["Type"] == "ConnectionOpened"]
    assert opened["connection_token"] == REDACTED
    assert len(timeline["Events"]) == len(run.events)


def test_the_timeline_never_carries_a_token(served: Served) -> None:
    a_chat_with_an_agent(served, "alices")

    status, timeline = served.api(served.admin).call("GET", "/v1/conversations/alices/timeline")

    assert status == 200
    text = str(timeline)
    assert TOKEN not in text and CONNECTION_TOKEN not in text
    assert served.alice.token not in text and served.admin.token not in text


def test_neither_the_timeline_nor_the_conversation_shows_a_credential_in_the_webhook_url(served: Served) -> None:
    url = "https://bot.example/hook?tenant=7&token=tok-SECRET"
    append(served.store, "hooked", started("hooked", url, served.alice.client.id).events)

    for who, path in ((served.admin, "/v1/conversations/hooked/timeline"), (served.alice, "/v1/conversations/hooked"),
                      (served.admin, "/v1/conversations/hooked")):
        status, answer = served.api(who).call("GET", path)
        assert status == 200 and "tok-SECRET" not in str(answer), answer
        assert "https://bot.example/hook?tenant=7&token=<redacted>" in str(answer), answer


def test_the_timeline_gives_the_state_its_events_fold_to(served: Served) -> None:
    run = a_chat_with_an_agent(served, "alices")

    timeline = served.api(served.admin).call("GET", "/v1/conversations/alices/timeline")[1]

    assert timeline["Conversation"] == served.api(served.admin).call("GET", "/v1/conversations/alices")[1]
    conversation = timeline["Conversation"]
    assert (conversation["Phase"], conversation["LastKnownAgent"]) == ("connected", {"AgentName": "Ana"})
    assert conversation["Version"] == len(run.events) == timeline["Events"][-1]["Seq"]
    [timer] = run.state.armed_timers
    assert [(t["Kind"], datetime.fromisoformat(t["DueAt"]).timestamp()) for t in timeline["ArmedTimers"]] == [
        ("DISCONNECT", timer.due_at)
    ]
    assert timeline["Pending"] == [
        {"Seq": seq, "Type": type(intent).__name__} for seq, intent in sorted(run.state.pending.items())
    ]


def test_an_intent_without_its_outcome_is_pending(served: Served) -> None:
    run = Run("waiting")
    run(replace(transfer(0.0), client_id=served.alice.client.id))  # ChatStartRequested, StartChatContact not done
    append(served.store, "waiting", run.events)

    timeline = served.api(served.admin).call("GET", "/v1/conversations/waiting/timeline")[1]

    assert timeline["Pending"] == [{"Seq": 2, "Type": "ChatStartRequested"}]
    assert [(step["Type"], step["Phase"]) for step in timeline["Events"]] == [
        ("Transferred", "starting"), ("ChatStartRequested", "starting")
    ]


def test_a_bot_is_refused_its_own_conversations_timeline(served: Served) -> None:
    a_chat_with_an_agent(served, "alices")

    status, answer = served.api(served.alice).call("GET", "/v1/conversations/alices/timeline")

    assert (status, answer["Code"]) == (403, "admin_only")
    assert "--admin" in answer["Message"]


def test_another_bots_conversation_answers_a_bot_exactly_as_an_unknown_one(served: Served) -> None:
    a_chat_with_an_agent(served, "alices")
    bob = served.api(served.bob)

    status, answer = bob.call("GET", "/v1/conversations/alices/timeline")
    unknown_status, unknown = bob.call("GET", "/v1/conversations/nobodys/timeline")

    assert (status, answer["Code"]) == (unknown_status, unknown["Code"]) == (404, "unknown_conversation")
    assert answer["Message"].replace("alices", "X") == unknown["Message"].replace("nobodys", "X")


def test_an_unknown_conversation_answers_an_admin_404(served: Served) -> None:
    status, answer = served.api(served.admin).call("GET", "/v1/conversations/nobodys/timeline")

    assert (status, answer["Code"]) == (404, "unknown_conversation")


def test_a_conversation_from_before_clients_has_its_timeline_for_an_admin(served: Served) -> None:
    served.conversation_of(None, "old")

    assert served.api(served.admin).call("GET", "/v1/conversations/old/timeline")[0] == 200


def test_a_client_reads_which_client_its_token_is_and_nothing_secret(served: Served) -> None:
    for who, admin in ((served.alice, False), (served.admin, True)):
        status, client = served.api(who).call("GET", "/v1/client")
        assert status == 200
        assert client == {"ClientId": who.client.id, "Name": who.client.name, "Admin": admin}
