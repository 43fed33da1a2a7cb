from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from store import EventStore
from store.event_log import EventLog
from tests.support.dynamodb import fresh_table, open_dynamo_store

# The log's behaviour is the same on both backends: a test marked `both_backends` runs on each, its
# `store` (and every store `open_store` opens) on the backend's log: one SQLite file, or one DynamoDB
# table in moto's server.
BACKENDS = ("sqlite", "dynamodb")
both_backends = pytest.mark.parametrize("backend", BACKENDS)


@pytest.fixture
def backend() -> str:
    return "sqlite"


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "events.db"


@pytest.fixture
def open_store(backend: str, store_path: Path, request: pytest.FixtureRequest) -> Iterator[Callable[[], EventLog]]:
    """Opens another store on the test's log (the same file, or the same table); all closed at teardown."""
    opened: list[EventLog] = []
    if backend == "dynamodb":
        endpoint_url = request.getfixturevalue("dynamodb_endpoint")
        request.getfixturevalue("dynamodb_credentials")
        table = fresh_table(endpoint_url)

        def make() -> EventLog:
            return open_dynamo_store(endpoint_url, table, store_path)
    else:

        def make() -> EventLog:
            return EventStore.open(store_path)

    def open_one() -> EventLog:
        made = make()
        opened.append(made)
        return made

    yield open_one
    for each in opened:
        each.close()


@pytest.fixture
def store(open_store: Callable[[], EventLog]) -> EventLog:
    return open_store()
