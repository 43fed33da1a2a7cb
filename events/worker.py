"""A worker's configuration as a stream (`worker-<id>`): its events, commands, decide and evolve.

The running service folds this stream to know the worker's current
configuration. A failover order (`run.py failover`, automatic failover, or a
`worker update` that changes `ActiveFailoverRegion`) changes where new transfers
start; its seq on this stream is the order's number, which each live
conversation records once (`FailoverSwitched`), so that an order carried out
again after a crash moves nobody twice. `FailoverCarriedOut` says the running
service has given the order to every live conversation.
"""

from __future__ import annotations

from typing import Any, Callable, Literal, Union

import msgspec
from msgspec.structs import replace

from events.conversation_events import AutoDisconnectRule, ConnectTarget, ShortLinkRule, TranslationRule
from events.long_messages import MAX_MESSAGE_BYTES
from events.rejection import Rejected
from events.slash_commands import SlashAction, SlashCommandRule
from events.worker_config import FailoverRegionConfig, TranslationConfig, WorkerConfig, active_failover_region

# What becomes of the live conversations in the region being left: "drain" lets each finish where it
# is; "move" ends each there and starts it again in the new region. A chat not yet started moves either way.
FailoverMode = Literal["drain", "move"]
# Who gave the order: the operator's command, automatic failover, or a `worker update`.
OrderedBy = Literal["operator", "auto", "update"]


class WorkerEvent(msgspec.Struct, frozen=True, kw_only=True, tag_field="type", tag=True):
    """Base of every worker event; the tag is the class name, never rename one."""

    v: int = 1
    at: float


class WorkerCreated(WorkerEvent):
    worker_id: str
    config: WorkerConfig


class WorkerUpdated(WorkerEvent):
    config: WorkerConfig


class FailoverActivated(WorkerEvent):
    name: str
    mode: FailoverMode = "drain"
    by: OrderedBy = "operator"


class FailoverDeactivated(WorkerEvent):
    """Back to the primary region."""

    mode: FailoverMode = "drain"
    by: OrderedBy = "operator"


class FailoverCarriedOut(WorkerEvent):
    """The running service gave order `order` to every live conversation of the worker: `moved` of them
    start again in the new region, `stayed` finish where they are (or were there already)."""

    order: int
    moved: int
    stayed: int


class WorkerDeleted(WorkerEvent):
    pass


AnyWorkerEvent = Union[
    WorkerCreated, WorkerUpdated, FailoverActivated, FailoverDeactivated, FailoverCarriedOut, WorkerDeleted
]


class WorkerCommand(msgspec.Struct, frozen=True, kw_only=True):
    at: float


class CreateWorker(WorkerCommand):
    worker_id: str
    config: WorkerConfig


class UpdateWorker(WorkerCommand):
    config: WorkerConfig


class ActivateFailover(WorkerCommand):
    name: str
    mode: FailoverMode = "drain"
    by: OrderedBy = "operator"


class DeactivateFailover(WorkerCommand):
    mode: FailoverMode = "drain"
    by: OrderedBy = "operator"


class RecordFailoverCarriedOut(WorkerCommand):
    order: int
    moved: int
    stayed: int


class DeleteWorker(WorkerCommand):
    pass


class WorkerState(msgspec.Struct, frozen=True, kw_only=True):
    """The worker's configuration now; `config` is None before creation, `deleted` after deletion.

    `failover_order` is the seq of the last event that changed the active region (0: none since the
    worker was created), `failover_mode` its mode, and `carried_out` the last order the running
    service has given to every live conversation."""

    worker_id: str
    version: int = 0
    config: WorkerConfig | None = None
    deleted: bool = False
    failover_order: int = 0
    failover_mode: FailoverMode = "drain"
    carried_out: int = 0


def initial_worker_state(worker_id: str) -> WorkerState:
    return WorkerState(worker_id=worker_id)


def decide_worker(state: WorkerState, command: WorkerCommand) -> list[WorkerEvent]:
    """The events `command` causes, or `Rejected`."""
    if isinstance(command, CreateWorker):
        if state.config is not None or state.deleted:
            raise Rejected("worker_exists", f"worker {state.worker_id!r} already exists")
        return [WorkerCreated(at=command.at, worker_id=command.worker_id, config=command.config)]
    config = _existing(state)
    if isinstance(command, UpdateWorker):
        return [] if command.config == config else [WorkerUpdated(at=command.at, config=command.config)]
    if isinstance(command, ActivateFailover):
        names = [region.name for region in _failover(config).failover_regions]
        if command.name not in names:
            raise Rejected(
                "unknown_failover_region",
                f"worker {state.worker_id!r} has no failover region {command.name!r} (it has {names or 'none'})",
            )
        if active_name(config) == command.name and not _escalates(state, command.mode):
            return []
        return [FailoverActivated(at=command.at, name=command.name, mode=command.mode, by=command.by)]
    if isinstance(command, DeactivateFailover):
        if active_name(config) is None and not _escalates(state, command.mode):
            return []
        return [FailoverDeactivated(at=command.at, mode=command.mode, by=command.by)]
    if isinstance(command, RecordFailoverCarriedOut):
        if command.order != state.failover_order or command.order <= state.carried_out:
            return []  # a later order came meanwhile, or this one is recorded already
        return [FailoverCarriedOut(at=command.at, order=command.order, moved=command.moved, stayed=command.stayed)]
    if isinstance(command, DeleteWorker):
        return [WorkerDeleted(at=command.at)]
    raise Rejected("unknown_command", f"{type(command).__name__} is not a worker command")


def _existing(state: WorkerState) -> WorkerConfig:
    if state.deleted:
        raise Rejected("worker_deleted", f"worker {state.worker_id!r} was deleted")
    if state.config is None:
        raise Rejected("unknown_worker", f"worker {state.worker_id!r} does not exist")
    return state.config


def _failover(config: WorkerConfig) -> FailoverRegionConfig:
    return config.data.failover_region_config or FailoverRegionConfig()


def active_name(config: WorkerConfig | None) -> str | None:
    """The active failover region's name, None for the primary (an unknown name counts as the primary)."""
    if config is None:
        return None
    region = active_failover_region(config)
    return None if region is None else region.name


def _escalates(state: WorkerState, mode: FailoverMode) -> bool:
    """An order to the region already active is new only when it moves the conversations a drain
    order left behind (the operator drained, then the old region got worse)."""
    return mode == "move" and state.failover_mode == "drain" and state.failover_order > 0


def evolve_worker(state: WorkerState, event: WorkerEvent) -> WorkerState:
    return _WORKER_EVOLVERS[type(event)](state, event)


def _with_active_failover(config: WorkerConfig | None, name: str | None) -> WorkerConfig | None:
    if config is None:
        return None
    failover = replace(_failover(config), active_failover_region=name)
    return replace(config, data=replace(config.data, failover_region_config=failover))


def _ordered(state: WorkerState, config: WorkerConfig | None, mode: FailoverMode) -> WorkerState:
    seq = state.version + 1
    return replace(state, version=seq, config=config, failover_order=seq, failover_mode=mode)


def _updated(state: WorkerState, event: WorkerUpdated) -> WorkerState:
    """An update that changes the active region is a drain order, as the seed's update switches regions."""
    if active_name(event.config) != active_name(state.config):
        return _ordered(state, event.config, "drain")
    return replace(state, version=state.version + 1, config=event.config)


_WORKER_EVOLVERS: dict[type, Callable[[WorkerState, Any], WorkerState]] = {
    WorkerCreated: lambda state, event: replace(state, version=state.version + 1, config=event.config),
    WorkerUpdated: _updated,
    FailoverActivated: lambda state, event: _ordered(
        state, _with_active_failover(state.config, event.name), event.mode
    ),
    FailoverDeactivated: lambda state, event: _ordered(state, _with_active_failover(state.config, None), event.mode),
    FailoverCarriedOut: lambda state, event: replace(state, version=state.version + 1, carried_out=event.order),
    WorkerDeleted: lambda state, event: replace(state, version=state.version + 1, deleted=True),
}


def connect_target(config: WorkerConfig) -> ConnectTarget:
    """Where a new transfer's chat starts: the active failover region, else the primary (the seed's rule)."""
    failover = active_failover_region(config)
    data = config.data
    limit = data.max_message_bytes or MAX_MESSAGE_BYTES
    if failover is not None:
        return ConnectTarget(
            region=failover.region,
            instance_id=failover.instance_id,
            contact_flow_id=failover.contact_flow_id,
            failover_region=failover.name,
            max_message_bytes=limit,
            secret=failover.secret,
        )
    return ConnectTarget(
        region=data.region,
        instance_id=data.instance_id,
        contact_flow_id=data.contact_flow_id,
        max_message_bytes=limit,
        secret=data.secret,
    )


def auto_disconnect_rules(config: WorkerConfig) -> tuple[AutoDisconnectRule, ...]:
    return tuple(
        AutoDisconnectRule(
            kind=event.type,
            seconds_after_agent_message=event.seconds_after_agent_message,
            user_message=event.user_message,
            agent_message=event.agent_message,
        )
        for event in config.data.auto_disconnect_events
    )


def slash_command_rules(config: WorkerConfig) -> tuple[SlashCommandRule, ...]:
    """The worker's SlashCommands in the file's order, as a conversation keeps them."""
    return tuple(
        SlashCommandRule(
            name=name,
            description=command.description,
            actions=tuple(SlashAction(type=action.type, value=action.value) for action in command.actions),
        )
        for name, command in config.data.slash_commands.items()
    )


def translation_rule(config: TranslationConfig | None) -> TranslationRule | None:
    """An IngressTranslationConfig or EgressTranslationConfig as a conversation keeps it."""
    if config is None:
        return None
    return TranslationRule(
        connector_alias=config.connector_alias,
        source_language_code=config.source_language_code,
        target_language_code=config.target_language_code,
    )


def short_link_rule(config: WorkerConfig) -> ShortLinkRule | None:
    short = config.data.short_link_config
    return None if short is None else ShortLinkRule(api=short.config.api, api_key_ref=short.config.api_key)
