"""Carrying out workers' failover orders in the running service.

An order is an event on the worker's stream (`run.py failover`, automatic failover, or a
`worker update` that changes `ActiveFailoverRegion`), written by whoever gives it, with the
service running or not. The service notices it within `poll_seconds`, gives it to each of the
worker's live conversations (each takes an order once: `FailoverSwitched`), and then records
`FailoverCarriedOut`, which `run.py failover` waits for. On start it carries out every order not
yet recorded as carried out, so an order given while the service was down, or one cut short by a
crash, is finished then, and nobody is moved twice.

With several nodes sharing the log (a cluster, `every_node`), each node serves its own conversations,
so each must give every order to its own: `FailoverCarriedOut` (written by whichever node finishes
first) cannot tell a node that the others' conversations, or its own, have it. So a node remembers, in
memory, which of its live conversations it gave the worker's order in force; on every pass it gives
that order to those it has not (the conversations it started or took over since), and at its start
to all of them (each conversation takes an order once, so one that already has it answers with the
switch it recorded). docs/dynamodb-store.md says why.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from structlog.contextvars import bound_contextvars

from events.conversation_events import FailoverSwitched
from events.worker import WorkerState
from logs import Progress
from service.periodic import Periodic
from store import EventStore
from store.workers import STREAM_PREFIX, UnknownWorker, WorkerRegistry

log = logging.getLogger(__name__)

POLL_SECONDS = 0.25
# Conversations given the order at once: their appends share the store's group commits.
CONCURRENT_ORDERS = 32

# Give one conversation the worker's order: the switch it recorded (None: nothing to give it); raises
# OrderHeld when it keeps the order for now (it is asked again on the next pass).
TakeOrder = Callable[[str, WorkerState], FailoverSwitched | None]


class OrderHeld(Exception):
    """The conversation keeps the failover order for now: a message perhaps under way to its old chat
    at a restart is not settled there yet (actors/conversation.py), or it is busy with a slow call."""

    def __init__(self, conversation_id: str) -> None:
        super().__init__(f"conversation {conversation_id!r} holds the failover order for now")
        self.conversation_id = conversation_id


class _Held:
    """What a conversation that keeps the order for now answered."""


HELD = _Held()


class FailoverOrders:
    def __init__(
        self,
        store: EventStore,
        *,
        conversations_of: Callable[[str], list[str]],
        take_order: TakeOrder,
        clock: Callable[[], float] = time.time,
        poll_seconds: float = POLL_SECONDS,
        every_node: bool = False,
    ) -> None:
        """`conversations_of(worker_id)`: its live conversations (on this node); `take_order(conversation_id,
        worker)`: give one of them the worker's order in force, answering the switch it recorded, or
        raising OrderHeld when it keeps the order for now. `every_node`: other nodes serve conversations
        of the same log, so this one gives each order to its own whatever is recorded (see above)."""
        self._store = store
        self._workers = WorkerRegistry(store)
        self._conversations_of = conversations_of
        self._take_order = take_order
        self._clock = clock
        self._seen: dict[str, int] = {}
        self._announced: dict[str, int] = {}  # worker -> the order whose carrying out was logged
        self._every_node = every_node
        # every_node: worker -> (its state with the order in force, this node's conversations given it)
        self._given: dict[str, tuple[WorkerState, set[str]]] = {}
        self._recorded: dict[str, int] = {}  # every_node: worker -> the order this node recorded
        self._loop = Periodic("failover orders", self._check, poll_seconds)

    def start(self) -> FailoverOrders:
        """On its own thread: carry out what is outstanding, then watch the workers' streams (so the
        API answers while recovered conversations are still taking an order)."""
        self._loop.start()
        return self

    def stop(self) -> None:
        self._loop.stop()

    def carry_out(self, worker_id: str) -> bool:
        """Give the worker's outstanding order to each of its live conversations and, once every one
        has taken it, record it as carried out. False while some hold it (to be asked again)."""
        try:
            worker = self._workers.state(worker_id)
        except UnknownWorker:
            self._given.pop(worker_id, None)
            return True  # deleted: nothing to carry out, ever
        if self._every_node:
            return self._carry_out_here(worker)
        if worker.failover_order <= worker.carried_out:
            return True
        return self._give(worker, self._conversations_of(worker_id))

    def _carry_out_here(self, worker: WorkerState) -> bool:
        """every_node: give the order in force to this node's live conversations of the worker that this
        node has not given it yet; False while some hold it."""
        if worker.failover_order == 0:
            return True  # never ordered anywhere
        kept = self._given.get(worker.worker_id)
        same_order = kept is not None and kept[0].failover_order == worker.failover_order
        live = self._conversations_of(worker.worker_id)
        given = (kept[1] & set(live)) if kept is not None and same_order else set()
        self._given[worker.worker_id] = (worker, given)
        pending = [conversation_id for conversation_id in live if conversation_id not in given]
        if not pending:
            return True
        return self._give(worker, pending, given)

    def _give(self, worker: WorkerState, conversations: list[str], given: set[str] | None = None) -> bool:
        """Give the worker's order to these conversations (noting in `given` those that took it) and, once
        none holds it, record it as carried out (every_node: once a node). False while some hold it."""
        with bound_contextvars(worker_id=worker.worker_id):
            worker_id = worker.worker_id
            if self._announced.get(worker_id) != worker.failover_order:
                self._announced[worker_id] = worker.failover_order
                log.info(
                    "worker %s: carrying out failover order %d (%s) for %d live conversations",
                    worker_id, worker.failover_order, worker.failover_mode, len(conversations),
                )
            what = f"worker {worker_id}: failover order {worker.failover_order}"
            with (
                ThreadPoolExecutor(max_workers=CONCURRENT_ORDERS, thread_name_prefix="failover-order") as pool,
                Progress(what, len(conversations), log=log, unit="conversations") as progress,
            ):
                answers = []
                for answer in pool.map(lambda conversation_id: self._taken(conversation_id, worker), conversations):
                    answers.append(answer)
                    progress.advance()
            if given is not None:
                given.update(c for c, answer in zip(conversations, answers) if answer is not HELD)
            if any(answer is HELD for answer in answers):
                return False
            if self._every_node:
                if self._recorded.get(worker_id) == worker.failover_order:
                    return True  # this node's later conversations: recorded and logged already
                self._recorded[worker_id] = worker.failover_order
            switches = [answer for answer in answers if isinstance(answer, FailoverSwitched)]
            moved = sum(1 for switch in switches if switch.moved)
            stayed = len(switches) - moved
            self._workers.record_carried_out(worker_id, order=worker.failover_order, moved=moved, stayed=stayed, at=self._clock())
            log.warning(
                "worker %s: failover order %d (%s) carried out: conversations moved: %d, staying where they are: %d",
                worker_id, worker.failover_order, worker.failover_mode, moved, stayed,
            )
            return True

    def _taken(self, conversation_id: str, worker: WorkerState) -> FailoverSwitched | _Held | None:
        with bound_contextvars(conversation_id=conversation_id, worker_id=worker.worker_id):
            try:
                return self._take_order(conversation_id, worker)
            except OrderHeld:
                return HELD

    def _check(self) -> None:
        versions = self._store.stream_versions(STREAM_PREFIX)
        changed = set()
        for stream, version in versions.items():
            if self._seen.get(stream) == version:
                continue
            changed.add(stream)
            try:
                done = self.carry_out(stream.removeprefix(STREAM_PREFIX))
            except Exception:  # noqa: BLE001 - one worker's trouble must not hold up the others' orders
                log.exception("failover orders: worker %s: a pass failed; trying again", stream.removeprefix(STREAM_PREFIX))
                continue
            if done:
                # The version read before: an order written meanwhile is seen next pass (and the
                # FailoverCarriedOut written here costs one more look at a stream with nothing outstanding).
                self._seen[stream] = version
        if self._every_node:
            self._catch_up(changed)

    def _catch_up(self, changed: set[str]) -> None:
        """every_node: the order in force to this node's conversations of each worker whose stream did not
        change (`changed` were just carried out), which it started or took over since it gave the order
        (no read of the store: the worker's state is kept)."""
        for worker_id, (worker, _) in list(self._given.items()):
            if STREAM_PREFIX + worker_id in changed:
                continue
            try:
                self._carry_out_here(worker)
            except Exception:  # noqa: BLE001 - one worker's trouble must not hold up the others' orders
                log.exception("failover orders: worker %s: a pass failed; trying again", worker_id)
