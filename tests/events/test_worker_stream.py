"""A worker's configuration as a stream: create, update, failover on and off, delete."""

from __future__ import annotations

import json
from functools import reduce

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events import Rejected, decide_worker, decode_worker, encode, evolve_worker, initial_worker_state
from events.conversation_events import AutoDisconnectRule, ConnectTarget
from events.long_messages import MAX_MESSAGE_BYTES
from events.worker import (
    ActivateFailover,
    CreateWorker,
    DeactivateFailover,
    DeleteWorker,
    FailoverActivated,
    FailoverCarriedOut,
    FailoverDeactivated,
    RecordFailoverCarriedOut,
    UpdateWorker,
    WorkerCommand,
    WorkerCreated,
    WorkerState,
    auto_disconnect_rules,
    connect_target,
)
from events.worker_config import InvalidWorkerConfig, encode_worker_config, parse_worker_config
from tests.events.scenario import worker_config


def apply(state: WorkerState, *commands: WorkerCommand) -> WorkerState:
    for command in commands:
        state = reduce(evolve_worker, decide_worker(state, command), state)
    return state


def created() -> WorkerState:
    return apply(initial_worker_state("w-1"), CreateWorker(at=1, worker_id="w-1", config=worker_config()))


def test_create_stores_the_configuration() -> None:
    events = decide_worker(initial_worker_state("w-1"), CreateWorker(at=1, worker_id="w-1", config=worker_config()))
    assert events == [WorkerCreated(at=1, worker_id="w-1", config=worker_config())]
    assert created().config == worker_config() and created().version == 1


def test_creating_a_worker_twice_is_rejected() -> None:
    with pytest.raises(Rejected) as raised:
        decide_worker(created(), CreateWorker(at=2, worker_id="w-1", config=worker_config()))
    assert raised.value.code == "worker_exists"


def test_failover_activated_switches_new_transfers_to_the_failover_region() -> None:
    state = apply(created(), ActivateFailover(at=2, name="us-west-2-oregon"))
    assert state.config is not None
    assert connect_target(state.config) == ConnectTarget(
        region="us-west-2",
        instance_id="instance-2",
        contact_flow_id="flow-2",
        failover_region="us-west-2-oregon",
        secret="srn:vault::acme:aws-cross-account-role:failover",
    )


def test_failover_deactivated_returns_to_the_primary_region() -> None:
    state = apply(created(), ActivateFailover(at=2, name="us-west-2-oregon"))
    assert decide_worker(state, DeactivateFailover(at=3)) == [FailoverDeactivated(at=3)]
    state = apply(state, DeactivateFailover(at=3))
    assert state.config is not None and connect_target(state.config).region == "us-east-1"


def test_failover_to_an_unknown_region_is_rejected_naming_the_known_ones() -> None:
    with pytest.raises(Rejected) as raised:
        decide_worker(created(), ActivateFailover(at=2, name="mars-1"))
    assert raised.value.code == "unknown_failover_region" and "us-west-2-oregon" in raised.value.message


def test_activating_the_active_failover_again_yields_nothing() -> None:
    state = apply(created(), ActivateFailover(at=2, name="us-west-2-oregon"))
    assert decide_worker(state, ActivateFailover(at=3, name="us-west-2-oregon")) == []
    assert decide_worker(created(), ActivateFailover(at=3, name="eu-west-1-dublin")) == [
        FailoverActivated(at=3, name="eu-west-1-dublin")
    ]


def test_each_failover_order_is_numbered_by_its_seq_with_its_mode() -> None:
    state = apply(created(), ActivateFailover(at=2, name="us-west-2-oregon", mode="move"))
    assert (state.failover_order, state.failover_mode) == (2, "move")
    state = apply(state, DeactivateFailover(at=3))
    assert (state.failover_order, state.failover_mode) == (3, "drain")


def test_moving_to_the_region_a_drain_order_already_chose_is_a_new_order() -> None:
    drained = apply(created(), ActivateFailover(at=2, name="us-west-2-oregon"))
    assert decide_worker(drained, ActivateFailover(at=3, name="us-west-2-oregon", mode="move")) == [
        FailoverActivated(at=3, name="us-west-2-oregon", mode="move")
    ]
    moved = apply(drained, ActivateFailover(at=3, name="us-west-2-oregon", mode="move"))
    assert decide_worker(moved, ActivateFailover(at=4, name="us-west-2-oregon", mode="move")) == []
    assert decide_worker(moved, ActivateFailover(at=4, name="us-west-2-oregon", mode="drain")) == []


def test_an_update_that_changes_the_active_region_is_a_drain_order_and_others_are_not() -> None:
    renamed = apply(created(), UpdateWorker(at=2, config=msgspec.structs.replace(worker_config(), name="Renamed")))
    assert renamed.failover_order == 0 and renamed.version == 2
    switched = apply(renamed, UpdateWorker(at=3, config=worker_config(active_failover="eu-west-1-dublin")))
    assert (switched.failover_order, switched.failover_mode) == (3, "drain")


def test_an_order_is_carried_out_once_and_never_after_a_later_order() -> None:
    first = apply(created(), ActivateFailover(at=2, name="us-west-2-oregon"))
    record = RecordFailoverCarriedOut(at=3, order=2, moved=0, stayed=4)
    assert decide_worker(first, record) == [FailoverCarriedOut(at=3, order=2, moved=0, stayed=4)]
    assert apply(first, record).carried_out == 2
    assert decide_worker(apply(first, record), record) == []
    later = apply(first, DeactivateFailover(at=3, mode="move"))
    assert decide_worker(later, record) == []


def test_update_replaces_the_configuration() -> None:
    state = apply(created(), UpdateWorker(at=2, config=worker_config(active_failover="eu-west-1-dublin")))
    assert state.config is not None and connect_target(state.config).failover_region == "eu-west-1-dublin"


@pytest.mark.parametrize(
    "command",
    [UpdateWorker(at=3, config=worker_config()), DeleteWorker(at=3), ActivateFailover(at=3, name="us-west-2-oregon")],
)
def test_changing_a_deleted_worker_is_rejected(command: WorkerCommand) -> None:
    state = apply(created(), DeleteWorker(at=2))
    with pytest.raises(Rejected) as raised:
        decide_worker(state, command)
    assert raised.value.code == "worker_deleted"


def test_changing_a_worker_never_created_is_rejected() -> None:
    with pytest.raises(Rejected) as raised:
        decide_worker(initial_worker_state("w-9"), DeleteWorker(at=1))
    assert raised.value.code == "unknown_worker"


def test_auto_disconnect_rules_come_from_the_worker() -> None:
    assert auto_disconnect_rules(worker_config()) == (
        AutoDisconnectRule(kind="WARNING", seconds_after_agent_message=10, user_message="Still there?", agent_message="User is quiet"),
        AutoDisconnectRule(kind="DISCONNECT", seconds_after_agent_message=20, user_message="Bye", agent_message="Disconnected"),
    )


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 6), max_size=12))
def test_replaying_the_encoded_worker_stream_rebuilds_the_live_state(kinds: list[int]) -> None:
    commands: list[WorkerCommand] = [
        CreateWorker(at=1, worker_id="w-1", config=worker_config()),
        UpdateWorker(at=2, config=worker_config(active_failover="eu-west-1-dublin")),
        ActivateFailover(at=3, name="us-west-2-oregon"),
        ActivateFailover(at=4, name="nowhere"),
        DeactivateFailover(at=5, mode="move"),
        RecordFailoverCarriedOut(at=6, order=3, moved=1, stayed=2),
        DeleteWorker(at=7),
    ]
    state, events = initial_worker_state("w-1"), []
    for kind in kinds:
        try:
            new = decide_worker(state, commands[kind])
        except Rejected:
            continue
        state = reduce(evolve_worker, new, state)
        events.extend(new)
    rebuilt = reduce(evolve_worker, (decode_worker(encode(event)) for event in events), initial_worker_state("w-1"))
    assert rebuilt == state and state.version == len(events)


def test_a_workers_max_message_bytes_goes_with_its_connect_target_primary_or_failover() -> None:
    assert connect_target(worker_config()).max_message_bytes == MAX_MESSAGE_BYTES
    config = worker_config(active_failover="us-west-2-oregon")
    lower = msgspec.structs.replace(config, data=msgspec.structs.replace(config.data, max_message_bytes=2_000))
    assert connect_target(lower).max_message_bytes == 2_000
    assert connect_target(lower).failover_region == "us-west-2-oregon"


@pytest.mark.parametrize("limit", [63, 16_385])
def test_max_message_bytes_outside_64_to_16384_is_refused_by_path(limit: int) -> None:
    raw = json.loads(encode_worker_config(worker_config()))
    raw["Data"]["MaxMessageBytes"] = limit
    with pytest.raises(InvalidWorkerConfig, match=r"\$\.Data\.MaxMessageBytes"):
        parse_worker_config(json.dumps(raw))
