"""moto's DynamoDB server (tests/support/dynamodb.py's, one request at a time) as a process of its own:
`python -m tests.support.dynamodb_server --ready-file FILE` writes `{"endpoint_url": ...}` to FILE once
it listens, and serves until SIGTERM. The three-node harness runs it so: in the harness's process it
would share one interpreter lock with the bots, the webhook receiver and the checks' polling, and answer
the nodes' lease renewals late enough under load for leases to run out between live nodes."""

from __future__ import annotations

import argparse
import json
import signal
import threading
from pathlib import Path

from tests.support.dynamodb import moto_server


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ready-file", type=Path, required=True)
    args = parser.parse_args()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    with moto_server() as endpoint_url:
        partial = args.ready_file.with_suffix(".partial")
        partial.write_text(json.dumps({"endpoint_url": endpoint_url}))
        partial.rename(args.ready_file)
        stopped.wait()


if __name__ == "__main__":
    main()
