"""A conversation actor whose stream another writer appended to (in a cluster: a node that held the
conversation's lease meanwhile, the lease back here before this node's actor stopped) must not answer
every call with the conflict for ever: it stops, and the next call starts one from the stream. The
three-node crash harness's bots got no answer for 90 s from a node whose actor stayed 3 events behind."""

from __future__ import annotations

from collections.abc import Callable

from connect_local.config import AgentConfig
from events import decide, encode, event_type
from events.commands import TypingEventReceived
from store import NewEvent
from store.conversations import conversation_stream
from tests.connect_local.configs import config_with
from tests.service.conftest import Running
from tests.service.harness import events_of, of_type, wait_for

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
