"""The body limit is the operator's: `--max-body-bytes` for the embedded default, `max_body_bytes` in
serve's configuration; both reach the API that answers 413."""

from __future__ import annotations

import http.client
import json
import signal
import urllib.parse
from pathlib import Path

from store import EventStore
from store.clients import ClientRegistry
from tests.support.processes import start_run_py, wait_for_ready_file


def status_of_a_body_of(api_url: str, token: str, size: int) -> int:
    """The status a POST of `size` bytes (blanks: no JSON) gets."""
    address = urllib.parse.urlsplit(api_url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    try:
        connection.request("POST", "/v1/conversations", body=b" " * size, headers={"Authorization": f"Bearer {token}"})
        return connection.getresponse().status
    finally:
        connection.close()


def run_and_measure(tmp_path: Path, token: str | None, *arguments: str) -> tuple[int, int]:
    """The statuses of a body of 1,000 and of 1,001 bytes, sent with `token` (None: the demo client's)."""
    ready = tmp_path / "ready.json"
    process = start_run_py(*arguments, "--ready-file", str(ready))
    try:
        info = wait_for_ready_file(ready, process)
        token = token or Path(info["api_token_file"]).read_text().strip()
        return status_of_a_body_of(info["api_url"], token, 1000), status_of_a_body_of(info["api_url"], token, 1001)
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)


def test_the_embedded_default_takes_its_limit_from_the_option(tmp_path: Path) -> None:
    statuses = run_and_measure(tmp_path, None, "--data", str(tmp_path / "data"), "--max-body-bytes", "1000")
    assert statuses == (400, 413)


def test_serve_takes_its_limit_from_the_configuration(tmp_path: Path) -> None:
    config = tmp_path / "serve.json"
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    config.write_text(json.dumps({"data_dir": str(data), "api_port": 0, "max_body_bytes": 1000}))
    with EventStore.open(data / "events.db") as store, ClientRegistry(store.path) as clients:
        token = clients.create("bot").token
    assert run_and_measure(tmp_path, token, "serve", "--config", str(config)) == (400, 413)
