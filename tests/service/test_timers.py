"""Auto-disconnect timers armed by the core fire through the timer service, on an injected clock."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import msgspec

from actors.timers import TimerService
from connect_client import RegionClients, static_session
from events import encode, event_type
from events.worker_config import AutoDisconnectEvent
from service.demo_worker import demo_worker_config
from service import WorkerService
from store import EventStore, NewEvent
from store.conversations import conversation_stream
from store.workers import WorkerRegistry
from tests.events.scenario import Run
from tests.service.conftest import Running
from tests.service.harness import events_of, of_type, wait_for


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def test_a_disconnect_rule_fires_when_the_clock_passes_it(start_service: Callable[..., Running]) -> None:
    clock = Clock()
    running = start_service(clock=clock)
    config = demo_worker_config(running.connect.ready_info())
    rule = AutoDisconnectEvent(
        seconds_after_agent_message=60, type="DISCONNECT", user_message="Bye for now", agent_message="User went quiet"
    )
    worker = WorkerRegistry(running.store).create(
        msgspec.structs.replace(config, data=msgspec.structs.replace(config.data, auto_disconnect_events=[rule])),
        at=clock.now,
    )
    running.api.transfer("t-1", worker)
    wait_for(lambda: of_type(events_of(running.store, "t-1"), "AgentJoined"), "Ana to join")
    running.api.say("t-1", "m-1", "hello")
    armed = wait_for(lambda: of_type(events_of(running.store, "t-1"), "TimerArmed"), "a timer armed by Ana's reply")
    assert not of_type(events_of(running.store, "t-1"), "TimerFired")
    clock.now = armed[-1].due_at + 1
    running.service.timers.poke()
    returned = wait_for(lambda: of_type(events_of(running.store, "t-1"), "ReturnedToBot"), "the hand-back")[0]
    assert returned.session_end_reason == "UserLeft"
    assert [e.text for e in of_type(events_of(running.store, "t-1"), "UserNotified")] == ["Bye for now"]


def recorded_firings() -> tuple[list[str], threading.Event, Callable[[str, str, float], None]]:
    """The timer ids fired, in order, an event set at each firing, and the callback that records them."""
    fired: list[str] = []
    done = threading.Event()

    def fire(conversation_id: str, timer_id: str, now: float) -> None:
        fired.append(timer_id)
        done.set()

    return fired, done, fire


def test_an_overdue_timer_fires_at_once_and_once() -> None:
    fired, done, fire = recorded_firings()
    timers = TimerService(fire, clock=lambda: 1000.0)
    timers.schedule("c", "c/timer/1", due_at=10.0)
    timers.schedule("c", "c/timer/1", due_at=10.0)  # recovery re-schedules what is already there
    timers.start()
    try:
        assert done.wait(5)
        timers.schedule("c", "c/timer/2", due_at=5000.0)
        assert wait_for(lambda: timers.pending() == 1, "the later timer to wait")
    finally:
        timers.stop()
    assert fired == ["c/timer/1"]


def test_a_cancelled_timer_is_unscheduled_and_never_fires() -> None:
    fired, done, fire = recorded_firings()
    timers = TimerService(fire, clock=lambda: 1000.0)
    timers.schedule("c", "c/timer/1", due_at=10.0)
    timers.schedule("c", "c/timer/2", due_at=20.0)
    timers.cancel("c", "c/timer/1")
    timers.cancel("c", "c/timer/9")  # never scheduled: let be
    assert timers.pending() == 1
    timers.start()
    try:
        assert done.wait(5)
    finally:
        timers.stop()
    assert fired == ["c/timer/2"]


def test_each_firing_is_told_with_how_late_it_came() -> None:
    late: list[float] = []
    told = threading.Event()

    def fired_late(seconds: float) -> None:
        late.append(seconds)
        told.set()

    timers = TimerService(lambda conversation_id, timer_id, now: None, clock=lambda: 1000.0, fired_late=fired_late)
    timers.schedule("c", "c/timer/1", due_at=990.5)
    timers.start()
    try:
        assert told.wait(5)
    finally:
        timers.stop()
    assert late == [9.5]


def test_each_agent_message_sets_the_timers_again_and_the_last_ones_leave_the_timer_service(
    start_service: Callable[..., Running],
) -> None:
    """Every agent message cancels the conversation's timers and arms new ones: the timer service
    must hold the new ones only, not one set per exchange until their due time."""
    clock = Clock()
    running = start_service(clock=clock)
    config = demo_worker_config(running.connect.ready_info())
    rules = [
        AutoDisconnectEvent(seconds_after_agent_message=60, type="WARNING", user_message="Still there?"),
        AutoDisconnectEvent(seconds_after_agent_message=120, type="DISCONNECT", user_message="Bye"),
    ]
    worker = WorkerRegistry(running.store).create(
        msgspec.structs.replace(config, data=msgspec.structs.replace(config.data, auto_disconnect_events=rules)),
        at=clock.now,
    )
    running.api.transfer("t-rearm", worker)
    wait_for(lambda: of_type(events_of(running.store, "t-rearm"), "AgentJoined"), "Ana to join")
    for n in range(3):
        running.api.say("t-rearm", f"m-{n}", f"hello {n}")
        wait_for(lambda: len(of_type(events_of(running.store, "t-rearm"), "TimerArmed")) == 2 * (n + 1), f"reply {n}")
    assert len(of_type(events_of(running.store, "t-rearm"), "TimerCancelled")) == 4
    assert wait_for(lambda: running.service.timers.pending() == 2, "only the last two timers scheduled")


def test_recovery_schedules_every_timer_before_it_starts_any_actor(tmp_path: Path) -> None:
    """Starting thousands of actors takes seconds: timers due meanwhile must not wait for their actor."""
    with EventStore.open(tmp_path / "events.db") as store:
        armed = 0
        for n in range(3):
            run = Run(f"conv-{n}").connected().with_agent()
            run.agent_says("Anything else?", at=3)
            armed += len(run.state.armed_timers)
            stream = conversation_stream(run.state.conversation_id)
            store.append(stream, [NewEvent(event_type(e), encode(e)) for e in run.events], expected_version=0)
        seen_at_first_clients: list[int] = []

        def region_clients(region: str, secret: str | None) -> RegionClients:
            seen_at_first_clients.append(service.timers.pending())
            return RegionClients.create(region, endpoint_url="http://127.0.0.1:9", session=static_session())

        service = WorkerService(store, region_clients, clock=lambda: 0.0)
        try:
            assert service.start().wait_recovered(30)
        finally:
            service.stop()
    assert armed == 6 and seen_at_first_clients[0] == armed
