"""`run.py status [--db PATH | --config FILE] [--json]`: is the service running, how is each region doing, how many
conversations are live, how big the store is, how far webhook delivery is behind and how many timers
are pending, whether the service runs or not.

The running service rewrites a status file beside the store every 2 seconds (service/status_file.py);
whether it runs is the store's service lock (store/service_lock.py), so a crashed service is never
taken for a running one. With the service down, the regions are shown as it last saw them and the
live conversations, pending timers and webhook backlog are counted from the store itself. The store's
size is always read now. Nothing printed holds a token or a secret value.

The delivery lag is how many positions of the log the webhook deliverer's tail has not read yet (0 while
it keeps up; after a restart, what it reads first); the backlog, per API client, the bot messages in
the log its webhooks have not taken yet (delivery/backlog.py), on either log: with `--config` and a
DynamoDB log the tail's position and the checkpoints are the data folder's file's, the events and the
clients' names the table's.

Exit code: 0 running; 1 running but its status is stale (the service is stuck, or cannot write its
data folder); 3 not running; 2 no store there, or a status file that is not one.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import msgspec

from commands.database import add_db_argument, local_store_path, log_name, open_existing_log
from delivery.backlog import ClientBacklog, DeliveryBacklog
from store.event_log import EventLog
from service.live_counts import LiveCounts
from service.status_file import (
    RegionFigures,
    ServiceStatus,
    UnreadableStatus,
    WorkerLive,
    read_status,
    service_version,
    status_path,
)
from service.status_writer import INTERVAL_SECONDS
from store import StoreError
from store.clients_of import clients_of
from store.file_size import StoreSize, store_size
from store.service_lock import service_running
from store.workers import WorkerRegistry

# Five missed writes: a status older than this from a running service means it is not writing.
STALE_AFTER_SECONDS = 5 * INTERVAL_SECONDS

State = Literal["running", "stale", "stopped"]


class Backlog(msgspec.Struct, frozen=True, kw_only=True):
    """A client's webhook backlog, with its name (None: no such client, or conversations from before clients)."""

    client_id: str | None
    client_name: str | None
    conversations: int
    messages: int
    oldest_at: float


class Report(msgspec.Struct, frozen=True, kw_only=True):
    """What `status` says; `--json` prints it as it is. `status` is the last status file (None: the
    service never wrote one here); `live`, `timers_pending`, `delivery_lag` and `webhook_backlog` are the
    service's when it runs, else read from the store (`live_from`), and so is `last_position`, the log's
    last event (the status file's is as old as its last write: a killed service may have appended after
    it); `store_size` is read now. `version` is this command's."""

    state: State
    version: str
    store_path: str  # the SQLite file: the log's, or beside a DynamoDB log the lock's and the status file's
    log: str  # the log in words: the SQLite file's path, or the DynamoDB table and its region
    checked_at: float
    status: ServiceStatus | None
    live: list[WorkerLive]
    live_from: Literal["service", "store"]
    store_size: StoreSize
    last_position: int
    timers_pending: int | None
    delivery_lag: int | None
    webhook_backlog: list[Backlog]


def register(subcommands: Any) -> None:
    parser = subcommands.add_parser(
        "status",
        help="whether the service runs, each region's health, the live conversations, the store and webhook backlog",
        description="Say whether the service runs on this store (and since when it last wrote its status), its "
        "version, each Amazon Connect region's health as the service sees it (calls, errors, throttles, latency, "
        "failures in a row), the live conversations of each worker in each region, the pending timers, the "
        "store's size (file and write-ahead log), how far the webhook deliverer lags behind the log and each API "
        "client's webhook backlog; with the service down, the regions as it last saw them and the rest read from "
        "the store. Exit code 0 running, 1 running but its status is stale, 3 not running, 2 no store.",
    )
    add_db_argument(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        with open_existing_log(args):  # first: no store, an empty file or no DynamoDB table is said as such
            pass
        report = make_report(
            local_store_path(args), now=time.time(), open_log=lambda: open_existing_log(args),
            log_label=log_name(args),
        )
    except (OSError, StoreError, UnreadableStatus) as error:
        print(f"status: {error}")
        return 2
    print(msgspec.json.format(msgspec.json.encode(report)).decode() if args.json else render(report))
    return {"running": 0, "stale": 1, "stopped": 3}[report.state]


def make_report(db: Path, *, now: float, open_log: Callable[[], EventLog], log_label: str | None = None) -> Report:
    """`db` is the SQLite file (beside it the lock and the status file), `open_log` opens the log (the
    same file, or a DynamoDB table, named `log_label`: the file's path when None). Raises
    FileNotFoundError with no store at `db`, UnreadableStatus
    for a status file that is not one, OSError when the data folder cannot be read."""
    if not db.exists():
        raise FileNotFoundError(f"no event store at {db}")
    status = read_status(status_path(db))
    state = _state(service_running(db), status, now)
    size = store_size(db)
    if state == "running" and status is not None:
        return Report(
            state=state, version=service_version(), store_path=str(db), log=log_label or str(db), checked_at=now,
            status=status, live=status.live, live_from="service", store_size=size, last_position=status.last_position,
            timers_pending=status.timers_pending,
            delivery_lag=status.delivery_lag, webhook_backlog=_named(open_log, status.webhook_backlog),
        )
    with open_log() as log:
        live, timers, last_position = _read_store(log)
        reader = DeliveryBacklog(log)
        try:
            delivery = reader.figures()
        finally:
            reader.close()
    return Report(
        state=state, version=service_version(), store_path=str(db), log=log_label or str(db), checked_at=now,
        status=status, live=live, live_from="store", store_size=size, last_position=last_position, timers_pending=timers,
        delivery_lag=delivery.lag, webhook_backlog=_named(open_log, delivery.backlog),
    )


def _state(running: bool, status: ServiceStatus | None, now: float) -> State:
    if not running:
        return "stopped"
    if status is None or status.stopped_at is not None or now - status.written_at > STALE_AFTER_SECONDS:
        return "stale"
    return "running"


def _read_store(log: EventLog) -> tuple[list[WorkerLive], int, int]:
    """The live conversations by worker and region, the timers pending in them, and the log's last position."""
    names = {worker_id: config.name for worker_id, config in WorkerRegistry(log).list().items()}
    counts = LiveCounts(log)
    live = [
        WorkerLive(worker_id=count.worker_id, worker_name=names.get(count.worker_id), region=count.region,
                   conversations=count.conversations)
        for count in counts.count()
    ]
    return live, counts.timers_pending(), log.last_position()


def _named(open_log: Callable[[], EventLog], backlog: list[ClientBacklog]) -> list[Backlog]:
    """The backlog with each client's name, read from the clients kept beside the log (in the SQLite
    file, or in the DynamoDB table) only when there is a backlog."""
    if not backlog:
        return []
    with open_log() as log, clients_of(log) as clients:
        names = {client.id: client.name for client in clients.list()}
    return [
        Backlog(client_id=waiting.client_id, client_name=names.get(waiting.client_id or ""),
                conversations=waiting.conversations, messages=waiting.messages, oldest_at=waiting.oldest_at)
        for waiting in backlog
    ]


def render(report: Report) -> str:
    """The report as text for a terminal."""
    status = report.status
    lines = [_headline(report)]
    if status is not None:
        other = "" if status.version == report.version else f" (this command's: {report.version})"
        lines.append(f"  version {status.version}{other}, started {_when(status.started_at)}")
        if status.api_url and report.state != "stopped":
            lines.append(f"  bots' HTTP API {status.api_url}")
    else:
        lines.append(f"  version {report.version} (this command's)")
    lines.append(f"  event store {report.log} (last position {report.last_position})")
    size = report.store_size
    kept = "store size" if report.log == report.store_path else f"local file {report.store_path}"
    lines.append(
        f"  {kept} {_bytes(size.file_bytes + size.wal_bytes)} (file {_bytes(size.file_bytes)}, "
        f"write-ahead log {_bytes(size.wal_bytes)})"
    )
    lines.append("")
    if status is None:
        lines.append("regions: not known (the service has written no status here)")
    else:
        seen = "now" if report.state == "running" else f"as last seen, {_when(status.written_at)}"
        lines.append(f"regions ({seen})")
        lines.extend(_regions_table(status.regions) if status.regions else ["  none in use"])
    lines.append("")
    source = "counted by the service" if report.live_from == "service" else "counted from the event store"
    lines.append(f"live conversations ({source}): {sum(live.conversations for live in report.live)}")
    lines.extend(_live_table(report.live) if report.live else [])
    timers = "not known (the service's status predates them)" if report.timers_pending is None else report.timers_pending
    lines.append(f"pending timers ({source}): {timers}")
    lines.append("")
    lines.extend(_delivery_lines(report, source))
    return "\n".join(lines)


def _delivery_lines(report: Report, source: str) -> list[str]:
    if report.delivery_lag is None:
        return ["webhook delivery: no deliverer has run on this store yet"]
    lines = [f"webhook delivery ({source}): lag {report.delivery_lag} log positions"]
    backlog = report.webhook_backlog
    if not backlog:
        return lines + ["  backlog: none"]
    messages = sum(waiting.messages for waiting in backlog)
    lines.append(f"  backlog: {messages} messages in {sum(waiting.conversations for waiting in backlog)} conversations")
    rows = [("CLIENT", "ID", "CONVERSATIONS", "MESSAGES", "OLDEST")]
    rows += [
        (
            waiting.client_name or ("(before clients)" if waiting.client_id is None else "(unknown)"),
            waiting.client_id or "-",
            str(waiting.conversations),
            str(waiting.messages),
            f"{_ago(report.checked_at - waiting.oldest_at)} ago",
        )
        for waiting in backlog
    ]
    return lines + _table(rows, right={2, 3})


def _headline(report: Report) -> str:
    status, now = report.status, report.checked_at
    if report.state == "running" and status is not None:
        return f"service running (pid {status.pid}, updated {_ago(now - status.written_at)} ago)"
    if report.state == "stale":
        if status is None or status.stopped_at is not None:
            return "service running, but it has written no status yet (starting, or a version without `status`)"
        return (
            f"service running (pid {status.pid}) but its status is {_ago(now - status.written_at)} old: it may be "
            "stuck, or unable to write its data folder (see its log)"
        )
    if status is None:
        return "service not running (it has never written a status here)"
    ended = "stopped" if status.stopped_at is not None else "gone without stopping (killed or crashed)"
    return f"service not running; last seen {_when(status.written_at)}, {_ago(now - status.written_at)} ago (pid {status.pid}, {ended})"


def _regions_table(regions: list[RegionFigures]) -> list[str]:
    rows = [("REGION", "LIVE", "CALLS", "ERRORS", "THROTTLES", "P50 MS", "P99 MS", "HEALTH", "SECRET")]
    for figures in sorted(regions, key=lambda figures: (figures.region, figures.secret or "")):
        health = figures.health
        rows.append(
            (
                figures.region,
                str(figures.live_conversations),
                str(health.calls),
                f"{health.errors} ({health.error_rate:.1%})",
                f"{health.throttles} ({health.throttle_rate:.1%})",
                _ms(health.latency_p50_ms),
                _ms(health.latency_p99_ms),
                _health_word(figures),
                figures.secret or "(the service's own credentials)",
            )
        )
    return _table(rows, right={1, 2, 3, 4, 5, 6})


def _health_word(figures: RegionFigures) -> str:
    health = figures.health
    if health.failing_since is not None:
        return f"FAILING since {_when(health.failing_since)} ({health.consecutive_failures} in a row)"
    return "no calls yet" if health.calls == 0 else "ok"


def _live_table(live: list[WorkerLive]) -> list[str]:
    rows = [("WORKER", "ID", "REGION", "LIVE")]
    rows += [(item.worker_name or "(deleted)", item.worker_id, item.region, str(item.conversations)) for item in live]
    return _table(rows, right={3})


def _table(rows: list[tuple[str, ...]], *, right: set[int]) -> list[str]:
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return [
        "  " + "  ".join(
            cell.rjust(width) if column in right else cell.ljust(width)
            for column, (cell, width) in enumerate(zip(row, widths))
        ).rstrip()
        for row in rows
    ]


def _bytes(count: int) -> str:
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if count >= size:
            return f"{count / size:.1f} {unit}"
    return f"{count} bytes"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _when(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _ago(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 36 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"
