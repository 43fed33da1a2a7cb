"""`python run.py` with no subcommand: everything that exists, on loopback.

Today that is the event store in the data folder and the local Amazon
Connect with its simulated agent and agent page. The worker service (the
bots' HTTP API and the conversation actors) joins it with issue 4.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from commands.database import DEFAULT_DATA_DIR
from commands.foreground import wait_until_signalled
from connect_local import LocalConnect
from connect_local.ready import write_ready_file
from store import EventStore, StoreError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The embedded default's options, on run.py's own parser."""
    parser.add_argument(
        "--data", type=Path, default=DEFAULT_DATA_DIR, help="data folder of the embedded default (default ./data)"
    )
    parser.add_argument(
        "--ready-file", type=Path, help="once listening, write a JSON object with the endpoints here"
    )


def run(args: argparse.Namespace) -> int:
    args.data.mkdir(parents=True, exist_ok=True)
    store_path = args.data / "events.db"
    try:
        store = EventStore.open(store_path)
    except StoreError as error:
        print(f"run.py: {error}")
        return 2
    with store, LocalConnect() as connect:
        info = {**connect.ready_info(), "store_path": str(store_path.resolve())}
        if args.ready_file:
            write_ready_file(args.ready_file, info)
        print(f"event store        {info['store_path']}")
        print(f"local Amazon Connect {info['endpoint_url']} (region {info['region']})")
        print(f"agent page         {info['agent_page_url']}")
        print("The bots' HTTP API arrives with the worker service (issue 4); until then try")
        print(f"  python run.py replay CONVERSATION --db {store_path}   and   python run.py events tail --db {store_path}")
        print("Stop with Ctrl-C.", flush=True)
        wait_until_signalled()
    return 0
