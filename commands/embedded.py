"""`python run.py` with no subcommand: the whole service on loopback.

The SQLite store in the data folder, the local Amazon Connect with its
simulated agent and agent page, a demo worker pointed at it (created once,
its id reused on later starts), the worker service and the bots' HTTP API.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from commands.database import DEFAULT_DATA_DIR
from commands.foreground import wait_until_signalled
from connect_local import LocalConnect
from connect_local.ready import write_ready_file
from service import local_regions
from service.demo_worker import ensure_demo_worker
from commands.runtime import running_service
from store import EventStore, StoreError
from store.data_folder import prepare_data_folder
from store.workers import WorkerRegistry


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The embedded default's options, on run.py's own parser."""
    parser.add_argument(
        "--data", type=Path, default=DEFAULT_DATA_DIR, help="data folder of the embedded default (default ./data)"
    )
    parser.add_argument(
        "--ready-file", type=Path, help="once listening, write a JSON object with the endpoints here"
    )
    parser.add_argument("--api-port", type=int, default=0, help="port of the bots' HTTP API (default: a free one)")


def run(args: argparse.Namespace) -> int:
    store_path = args.data / "events.db"
    try:
        prepare_data_folder(args.data)
        store = EventStore.open(store_path)
    except StoreError as error:
        print(f"run.py: {error}")
        return 2
    with store, LocalConnect() as connect:
        connect_info = connect.ready_info()
        worker_id = ensure_demo_worker(WorkerRegistry(store), connect_info)
        with running_service(
            store, local_regions(connect.endpoint_url), data_dir=args.data, port=args.api_port
        ) as running:
            info = {
                **connect_info,
                "api_url": running.api_url,
                "api_token_file": str(running.api_token_file),
                "openapi_url": running.openapi_url,
                "demo_worker_id": worker_id,
                "store_path": str(store_path.resolve()),
            }
            if args.ready_file:
                write_ready_file(args.ready_file, info)
            _print_welcome(info)
            wait_until_signalled()
    return 0


def _print_welcome(info: dict) -> None:
    print(f"bots' HTTP API       {info['api_url']}  (OpenAPI: {info['openapi_url']})")
    print(f"API token            in {info['api_token_file']}")
    print(f"agent page           {info['agent_page_url']}")
    print(f"local Amazon Connect {info['endpoint_url']} (region {info['region']})")
    print(f"event store          {info['store_path']}")
    print(f"demo worker          {info['demo_worker_id']}")
    print("Hand a first conversation over; once the simulated agent Ana has joined (the events show it), say something:")
    auth = f"-H \"Authorization: Bearer $(cat {info['api_token_file']})\" -H 'Content-Type: application/json'"
    print(
        f"  curl -s {auth} -d '{{\"ConversationId\":\"hello-1\",\"WorkerId\":\"{info['demo_worker_id']}\","
        f"\"BotName\":\"DemoBot\",\"Context\":{{\"name\":\"Maya\"}},\"DeliverTo\":null}}' {info['api_url']}/v1/conversations"
    )
    print(
        f"  curl -s {auth} -d '{{\"MessageId\":\"m-1\",\"Text\":\"Hello\"}}' "
        f"{info['api_url']}/v1/conversations/hello-1/messages"
    )
    print(f"  curl -s {auth} '{info['api_url']}/v1/conversations/hello-1/events?after=0'")
    print("Stop with Ctrl-C.", flush=True)
