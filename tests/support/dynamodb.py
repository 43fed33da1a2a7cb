"""DynamoDB for the tests: moto's server on a free loopback port, and a fresh table in it per test."""

from __future__ import annotations

import copy
import functools
import io
import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import moto.dynamodb.models as moto_dynamodb
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

from store.dynamo_event_store import DynamoEventStore
from store.dynamo_table import create_table, dynamodb_client

REGION = "us-east-1"
# moto accepts any keys: a test sets these (monkeypatch) for the clients boto3's default chain makes.
DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


@contextmanager
def moto_server() -> Iterator[str]:
    """moto in server mode on 127.0.0.1 (a free port), stopped on the way out; its endpoint URL.

    Requests are answered one at a time, each once its body has arrived. moto applies a transaction's
    items one after the other with no lock, so two transactions answered at once on its threads can
    interleave, which DynamoDB never lets happen (its transactions are serializable); with one request
    at a time they cannot. The server is moto's own (`ThreadedMotoServer` does the same with its
    application unwrapped).
    """
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    back_up_each_table_once()
    moto = DomainDispatcherApplication(create_backend_app)
    one_at_a_time = threading.Lock()

    def serialized(environ: dict[str, Any], start_response: Any) -> Any:
        # The body is read before the lock is taken: a client stopped mid-request (the three-node test's
        # SIGSTOP) held every other client's request up behind its unread body, the takeover's too.
        environ["wsgi.input"] = io.BytesIO(environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)))
        with one_at_a_time:
            return list(moto(environ, start_response))

    server = make_server("127.0.0.1", 0, serialized, threaded=True, request_handler=MotoRequestHandler)
    serving = threading.Thread(target=server.serve_forever, name="moto-server", daemon=True)
    serving.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host}:{port}"
    finally:
        server.shutdown()
        serving.join()
        server.server_close()


_backups = threading.local()


def _deepcopy(thing: Any, memo: dict[int, Any] | None = None) -> Any:
    """`copy.deepcopy`, except for a table inside a transaction (`_backed_up_once`): one copy of each."""
    copies: dict[int, tuple[Any, Any]] | None = getattr(_backups, "copies", None)
    if copies is None or memo is not None or not isinstance(thing, moto_dynamodb.Table):
        return copy.deepcopy(thing, memo)
    if id(thing) not in copies:
        copies[id(thing)] = (thing, copy.deepcopy(thing))  # the original kept, so its id is not reused
    return copies[id(thing)][1]


def _backed_up_once(transact: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(transact)
    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        _backups.copies = {}
        try:
            transact(self, transact_items)
        finally:
            _backups.copies = None

    transact_write_items.backs_up_once = True  # type: ignore[attr-defined]
    return transact_write_items


def back_up_each_table_once() -> None:
    """moto 5.2.5's `TransactWriteItems` deep-copies the whole table once for *each action* before
    applying any (its backup for a rollback; bench/README.md, "bench/leases.py"), so a 2-event append's
    seven actions made seven copies of a table that grows through a test: 100-300 ms an append on the
    three-node test's moto. The copies are all of the same state, taken before anything is applied,
    and only the last is kept; here the first is made and handed out again for the others, so the
    rollback restores exactly what it did before. Installed once per process, by `moto_server`."""
    backend = moto_dynamodb.DynamoDBBackend
    if getattr(backend.transact_write_items, "backs_up_once", False):
        return
    moto_dynamodb.copy = SimpleNamespace(deepcopy=_deepcopy, copy=copy.copy)  # type: ignore[assignment]
    backend.transact_write_items = _backed_up_once(backend.transact_write_items)  # type: ignore[method-assign]


def fresh_table(endpoint_url: str) -> str:
    """A new, empty log table at `endpoint_url`; its name."""
    table = f"log-{uuid.uuid4().hex[:12]}"
    create_table(dynamodb_client(REGION, endpoint_url), table)
    return table


def open_dynamo_store(endpoint_url: str, table: str, local_path: Path) -> DynamoEventStore:
    return DynamoEventStore.open(table, REGION, local_path=local_path, endpoint_url=endpoint_url)
