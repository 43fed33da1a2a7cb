"""The worker registry: each worker is a stream `worker-<id>` of configuration events.

Commands go through the pure `decide_worker`; the registry only loads the
stream, appends what was decided with the version it read, and folds.

    >>> registry = WorkerRegistry(store)
    >>> worker_id = registry.create(config, at=time.time())
"""

from __future__ import annotations

import uuid

from events import decide_worker, decode_worker, encode, event_type, evolve_worker, initial_worker_state
from events.rejection import Rejected
from events.worker import (
    ActivateFailover,
    CreateWorker,
    DeactivateFailover,
    DeleteWorker,
    FailoverMode,
    OrderedBy,
    RecordFailoverCarriedOut,
    UpdateWorker,
    WorkerCommand,
    WorkerDeleted,
    WorkerState,
)
from events.worker_config import WorkerConfig
from store.event_store import EventStore
from store.records import NewEvent

STREAM_PREFIX = "worker-"


class UnknownWorker(LookupError):
    """No worker has that id (or it was deleted)."""

    def __init__(self, worker_id: str) -> None:
        super().__init__(f"no worker with id {worker_id!r}")
        self.worker_id = worker_id


class WorkerRegistry:
    """Create, read, change and delete workers in the event store."""

    def __init__(self, store: EventStore) -> None:
        self._store = store

    def create(self, config: WorkerConfig, *, at: float) -> str:
        worker_id = str(uuid.uuid4())
        self._handle(worker_id, CreateWorker(at=at, worker_id=worker_id, config=config))
        return worker_id

    def get(self, worker_id: str) -> WorkerConfig:
        state = self._load(worker_id)
        if state.config is None or state.deleted:
            raise UnknownWorker(worker_id)
        return state.config

    def state(self, worker_id: str) -> WorkerState:
        """The worker's configuration with its failover orders (UnknownWorker if none or deleted)."""
        state = self._load(worker_id)
        if state.config is None or state.deleted:
            raise UnknownWorker(worker_id)
        return state

    def states(self) -> list[WorkerState]:
        """Every worker not deleted."""
        ids = [stream.removeprefix(STREAM_PREFIX) for stream in self._store.open_streams(STREAM_PREFIX)]
        return [state for state in map(self._load, ids) if state.config is not None]

    def list(self) -> dict[str, WorkerConfig]:
        """Every worker not deleted, by id."""
        return {state.worker_id: state.config for state in self.states() if state.config is not None}

    def update(self, worker_id: str, config: WorkerConfig, *, at: float) -> WorkerState:
        return self._handle(worker_id, UpdateWorker(at=at, config=config))

    def failover(
        self, worker_id: str, *, to: str | None, mode: FailoverMode, at: float, by: OrderedBy = "operator"
    ) -> WorkerState:
        """Order the worker to failover region `to` (None: back to the primary). The state's
        `failover_order` is the order's number; an order already in force writes nothing.
        Raises UnknownWorker, or Rejected when `to` names no failover region of the worker."""
        command = (
            DeactivateFailover(at=at, mode=mode, by=by) if to is None else ActivateFailover(at=at, name=to, mode=mode, by=by)
        )
        return self._handle(worker_id, command)

    def record_carried_out(self, worker_id: str, *, order: int, moved: int, stayed: int, at: float) -> WorkerState:
        """Say that order `order` reached every live conversation (nothing if a later order came meanwhile)."""
        return self._handle(worker_id, RecordFailoverCarriedOut(at=at, order=order, moved=moved, stayed=stayed))

    def delete(self, worker_id: str, *, at: float) -> WorkerState:
        return self._handle(worker_id, DeleteWorker(at=at))

    def _load(self, worker_id: str) -> WorkerState:
        state = initial_worker_state(worker_id)
        for stored in self._store.read_stream(STREAM_PREFIX + worker_id):
            state = evolve_worker(state, decode_worker(stored.data))
        return state

    def _handle(self, worker_id: str, command: WorkerCommand) -> WorkerState:
        state = self._load(worker_id)
        if state.config is None and not isinstance(command, CreateWorker):
            raise UnknownWorker(worker_id)
        try:
            events = decide_worker(state, command)
        except Rejected as rejection:
            if rejection.code in ("worker_deleted", "unknown_worker"):
                raise UnknownWorker(worker_id) from None
            raise
        if events:
            self._store.append(
                STREAM_PREFIX + worker_id,
                [NewEvent(event_type(event), encode(event)) for event in events],
                expected_version=state.version,
                closes_stream=any(isinstance(event, WorkerDeleted) for event in events),
            )
        for event in events:
            state = evolve_worker(state, event)
        return state
