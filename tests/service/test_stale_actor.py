"""A conversation actor whose stream another writer appended to (in a cluster: a node that held the
conversation's lease meanwhile, the lease back here before this node's actor stopped) must not answer
every call with the conflict for ever: it stops, and the next call starts one from the stream. The
three-node crash harness's bots got no answer for 90 s from a node whose actor stayed 3 events behind.

Nor may a conversation wait for the bot's next call to go on, when its actor stopped while handling
what Connect reported: the service starts one again from the stream by itself. The three-node crash
harness (on CI) saw a bot's accepted message never sent, and the chat never ended, after an actor
stopped so with no call to follow."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from actors.region import SupervisorStopped
from connect_local.config import AgentConfig
from events import decide, encode, event_type
from events.commands import TypingEventReceived
from store import NewEvent
from store.conversations import conversation_stream
from tests.connect_local.configs import config_with
from tests.service.conftest import Bot, Running
from tests.service.harness import events_of, of_type, wait_for
from tests.service.test_slash_commands import accepted_chat, agent_api

QUIET_ANA = AgentConfig(name="Ana", join_delay_seconds=0, default_reply="Noted.")


def test_an_actor_behind_its_stream_stops_and_the_next_call_is_served_from_the_stream(
    start_service: Callable[..., Running],
) -> None:
    running = start_service(config_with([QUIET_ANA]))
    assert running.api.transfer("stale", running.worker_id)[0] == 201
    wait_for(lambda: of_type(events_of(running.store, "stale"), "AgentJoined"), "Ana to join")
    state = running.service.state("stale")
    behind = decide(state, TypingEventReceived(at=state.version + 100.0, role="AGENT", display_name="Ana"))
    running.store.append(conversation_stream("stale"), [NewEvent(event_type(e), encode(e)) for e in behind],
                         state.version)  # another writer: the actor's state is one event behind now

    first, _ = running.api.say("stale", "m-1", "hello")
    second, answer = running.api.say("stale", "m-1", "hello")  # the bot sends again what got a 5xx

    assert first >= 500 and second == 202, (first, second, answer)
    assert [e.bot_message_id for e in of_type(events_of(running.store, "stale"), "UserMessageRequested")] == ["m-1"]


def make_stale(running: Running, conversation_id: str) -> None:
    """Another writer appends to the conversation's stream: its actor's state is one event behind."""
    state = running.service.state(conversation_id)
    behind = decide(state, TypingEventReceived(at=state.version + 100.0, role="AGENT", display_name="Ana"))
    running.store.append(conversation_stream(conversation_id), [NewEvent(event_type(e), encode(e)) for e in behind],
                         state.version)


def test_an_actor_that_stopped_behind_its_stream_on_an_agents_line_is_started_again_without_a_call(
    start_service: Callable[..., Running], bot: Bot
) -> None:
    running = start_service(config_with(agents=[]))
    contact_id = accepted_chat(running, bot, "fell")
    make_stale(running, "fell")

    agent_api(running, "POST", f"{contact_id}/messages", {"Content": "Are you still there?"})  # its record fails

    wait_for(lambda: [m for m in bot.received if m["Type"] == "AgentMessage"], "the agent's line at the bot")
    lines = [e.content for e in of_type(events_of(running.store, "fell"), "AgentMessageReceived")]
    assert lines == ["Are you still there?"]
    assert [m["Text"] for m in bot.received if m["Type"] == "AgentMessage"] == ["Are you still there?"]


def test_a_live_conversation_found_with_no_actor_at_two_cluster_passes_is_started_again(
    start_service: Callable[..., Running], bot: Bot
) -> None:
    running = start_service(config_with(agents=[]))
    contact_id = accepted_chat(running, bot, "idle")
    running.service.supervisor_of("idle").release("idle").stop()  # as a takeover whose resumption failed leaves it
    agent_api(running, "POST", f"{contact_id}/messages", {"Content": "Hello?"})

    running.service.revive_idle(["idle"])  # once may be an actor between two lives: not yet
    assert "idle" not in running.service._reviving  # nothing waits to start it
    running.service.revive_idle(["idle"])

    wait_for(lambda: [m for m in bot.received if m["Type"] == "AgentMessage"], "the agent's line at the bot")
    assert [e.content for e in of_type(events_of(running.store, "idle"), "AgentMessageReceived")] == ["Hello?"]


def test_an_actor_that_died_of_an_exception_in_a_report_is_started_again_and_goes_on(
    start_service: Callable[..., Running], bot: Bot
) -> None:
    running = start_service(config_with(agents=[]))
    contact_id = accepted_chat(running, bot, "died")
    dead = running.service.running_actor("died")
    assert dead is not None

    dead.tell(object())  # no handler takes it: pykka stops the actor, without on_stop
    wait_for(lambda: (ref := running.service.running_actor("died")) is not None and ref is not dead, "a new actor")
    wait_for(lambda: running.connect.open_sockets(contact_id) == 1, "the dead actor's socket closed, the new one's open")
    agent_api(running, "POST", f"{contact_id}/messages", {"Content": "Back again"})

    wait_for(lambda: [m for m in bot.received if m["Type"] == "AgentMessage"], "the agent's line at the bot")
    assert [e.content for e in of_type(events_of(running.store, "died"), "AgentMessageReceived")] == ["Back again"]


def test_a_stopped_supervisor_starts_no_actor_so_a_revive_racing_the_stop_leaves_none_behind(
    start_service: Callable[..., Running],
) -> None:
    running = start_service(config_with([QUIET_ANA]))
    assert running.api.transfer("late", running.worker_id)[0] == 201
    supervisor = running.service.supervisor_of("late")

    supervisor.stop()

    with pytest.raises(SupervisorStopped):
        supervisor.actor("late")
    assert supervisor.running_actor("late") is None
