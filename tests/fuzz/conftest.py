"""The service the API fuzz runs against: wired as `run.py` wires it, on loopback, once per module.

One fixture, `api_token`, is the only place that knows how a bot gets its token.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from commands.runtime import running_service
from connect_local import LocalConnect
from service import local_regions
from service.demo_worker import ensure_demo_worker
from store import EventStore
from store.workers import WorkerRegistry
from tests.connect_local.configs import config_with


@dataclass(frozen=True)
class FuzzTarget:
    api_url: str
    worker_id: str
    api_token: str


@dataclass
class Tally:
    """What the fuzz sent: the number of requests by operation and by status."""

    statuses: Counter[int] = field(default_factory=Counter)
    by_operation: Counter[str] = field(default_factory=Counter)

    def count(self, operation: str, status: int) -> None:
        self.statuses[status] += 1
        self.by_operation[operation] += 1

    def summary(self) -> str:
        statuses = ", ".join(f"{status}: {n}" for status, n in sorted(self.statuses.items()))
        return f"API fuzz: {sum(self.statuses.values())} requests over {len(self.by_operation)} operations ({statuses})"


@pytest.fixture(scope="module")
def fuzz_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzTarget]:
    """The local Amazon Connect, the store, the demo worker and the API on free 127.0.0.1 ports."""
    data_dir = tmp_path_factory.mktemp("fuzz-data")
    with (
        LocalConnect(config_with()) as connect,
        EventStore.open(data_dir / "events.db") as store,
    ):
        worker_id = ensure_demo_worker(WorkerRegistry(store), connect.ready_info())
        with running_service(store, local_regions(connect.endpoint_url)) as served:
            yield FuzzTarget(served.api_url, worker_id, served.clients.create("fuzz-bot").token)


@pytest.fixture(scope="module")
def api_token(fuzz_target: FuzzTarget) -> str:
    """The bearer token the fuzz sends: a bot client's (it sees the conversations it transfers)."""
    return fuzz_target.api_token


_TALLY = Tally()


@pytest.fixture
def tally() -> Tally:
    """Counts the fuzz's requests over the whole run; pytest's summary prints the figures."""
    return _TALLY


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _TALLY.statuses:
        terminalreporter.write_line(_TALLY.summary())
