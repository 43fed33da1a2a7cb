"""`run.py failover WORKER --to NAME | --primary [--drain | --move]`: the supervisor command that
switches a worker's Amazon Connect region when a region fails.

The order is an event on the worker's stream, written here whether the service runs or not. A
running service carries it out within a second and records so; this command waits for that and
says what became of the live conversations, or, with no service running, that it will be carried
out when the service starts (service/failover_orders.py).
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from commands.database import add_db_argument, local_store_path, open_log_for_writing
from events import decode_worker
from events.rejection import Rejected
from events.worker import FailoverCarriedOut, FailoverMode, WorkerState, connect_target
from store import ConcurrencyConflict, StoreError
from store.event_log import EventLog
from store.service_lock import service_running
from store.workers import STREAM_PREFIX, UnknownWorker, WorkerRegistry

DEFAULT_WAIT_SECONDS = 30.0
ORDER_ATTEMPTS = 5


def register(subcommands: Any) -> None:
    parser = subcommands.add_parser(
        "failover",
        help="switch a worker's Amazon Connect region: to a failover region, or back to the primary",
        description="Switch WORKER's new transfers to failover region NAME (--to) or back to the primary region "
        "(--primary). Live conversations in the region being left finish where they are (--drain, the default) "
        "or end there and start again in the new region with the conversation so far (--move). Works whether "
        "the service runs or not; a running service carries the order out within a second, and this command "
        "waits for it.",
    )
    parser.add_argument("worker", metavar="WORKER", help="the worker's id")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--to", metavar="NAME", help="the Name of one of the worker's FailoverRegions")
    where.add_argument("--primary", action="store_true", help="back to the worker's primary (root-level) region")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--drain", dest="mode", action="store_const", const="drain",
                      help="live conversations finish where they are (default)")
    mode.add_argument("--move", dest="mode", action="store_const", const="move",
                      help="live conversations end in the old region and start again in the new one")
    parser.set_defaults(mode="drain")
    parser.add_argument("--wait", type=_seconds, default=DEFAULT_WAIT_SECONDS, metavar="SECONDS",
                        help=f"how long to wait for a running service to carry it out (default {DEFAULT_WAIT_SECONDS:g})")
    add_db_argument(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        store = open_log_for_writing(args, create=False)
    except (FileNotFoundError, StoreError) as error:
        return _refuse(str(error))
    with store:
        registry = WorkerRegistry(store)
        try:
            before, worker = _give_order(registry, args.worker, args.to, args.mode)
        except UnknownWorker as error:
            return _refuse(str(error))
        except Rejected as rejection:
            return _refuse(f"--to: {rejection.message}")
        print(order_line(worker, given=worker.version > before.version))
        if worker.failover_order == 0 or worker.carried_out >= worker.failover_order:
            return 0
        if not service_running(local_store_path(args)):
            print(f"no service is running on {local_store_path(args)}: it will carry out order {worker.failover_order} when it starts")
            return 0
        done = _wait_until_carried_out(store, args.worker, worker.failover_order, args.wait)
        if done is None:
            print(
                f"the running service has not carried out order {worker.failover_order} within {args.wait:g} s; "
                f"it will: see `python run.py status` and its log"
            )
            return 1
        stay = "finishes where it is" if done.stayed == 1 else "finish where they are"
        print(f"carried out: {_conversations(done.moved)} moved, {done.stayed} {stay}")
        return 0


def _refuse(message: str) -> int:
    print(f"failover: {message}", file=sys.stderr)
    return 2


def _conversations(count: int) -> str:
    return f"{count} live conversation" + ("" if count == 1 else "s")


def _seconds(text: str) -> float:
    """--wait: seconds, 0 or more."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:  # negative, or not a number
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds (0 or more)")
    return seconds


def _give_order(
    registry: WorkerRegistry, worker_id: str, to: str | None, mode: FailoverMode
) -> tuple[WorkerState, WorkerState]:
    """The worker before and after the order. The running service may be writing to the worker's
    stream at the same moment (it records orders carried out): the order is then read and given again."""
    attempts = 0
    while True:
        before = registry.state(worker_id)
        try:
            return before, registry.failover(worker_id, to=to, mode=mode, at=time.time())
        except ConcurrencyConflict:
            attempts += 1
            if attempts == ORDER_ATTEMPTS:
                raise


def order_line(worker: WorkerState, *, given: bool) -> str:
    """The order in force, as `failover` and `worker update` say it."""
    assert worker.config is not None
    target = connect_target(worker.config)
    where = f"failover region {target.failover_region}" if target.failover_region else "the primary region"
    head = f"order {worker.failover_order}:" if given else f"already in force (order {worker.failover_order}):"
    after = (
        "live conversations there finish where they are" if worker.failover_mode == "drain"
        else "live conversations elsewhere move there"
    )
    return (
        f"{head} worker {worker.worker_id} ({worker.config.name}) starts new transfers in {where}: "
        f"{target.region}, instance {target.instance_id}; {after}"
    )


def _wait_until_carried_out(store: EventLog, worker_id: str, order: int, seconds: float) -> FailoverCarriedOut | None:
    deadline = time.monotonic() + seconds
    position = store.last_position()
    while True:
        for stored in store.read_stream(STREAM_PREFIX + worker_id):
            event = decode_worker(stored.data)
            if isinstance(event, FailoverCarriedOut) and event.order == order:
                return event
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not store.wait_for_position(position, remaining):
            return None
        position = store.last_position()
