"""DynamoDB for the tests: moto's server on a free loopback port, and a fresh table in it per test."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import threading
from typing import Any

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

    Requests are answered one at a time. moto applies a transaction's items one after the other with
    no lock, so two transactions answered at once on its threads can interleave, which DynamoDB never
    lets happen (its transactions are serializable); with one request at a time they cannot. The
    server is moto's own (`ThreadedMotoServer` does the same with its application unwrapped).
    """
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    moto = DomainDispatcherApplication(create_backend_app)
    one_at_a_time = threading.Lock()

    def serialized(environ: dict[str, Any], start_response: Any) -> Any:
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


def fresh_table(endpoint_url: str) -> str:
    """A new, empty log table at `endpoint_url`; its name."""
    table = f"log-{uuid.uuid4().hex[:12]}"
    create_table(dynamodb_client(REGION, endpoint_url), table)
    return table


def open_dynamo_store(endpoint_url: str, table: str, local_path: Path) -> DynamoEventStore:
    return DynamoEventStore.open(table, REGION, local_path=local_path, endpoint_url=endpoint_url)
