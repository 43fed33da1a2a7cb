"""`python run.py` with no subcommand: the whole service on loopback.

The SQLite store in the data folder, the local Amazon Connect with its
simulated agent (or, with `--agent human`, none: a person answers from the
agent page) and agent page, a demo worker pointed at it and a demo API client
(each created once and reused on later starts), the worker service and the
bots' HTTP API.
"""

from __future__ import annotations

import argparse
import secrets
from pathlib import Path

from api import write_secret_file
from api.request_body import DEFAULT_MAX_BODY_BYTES
from commands.collector import collect_less, freeze_when_recovered
from commands.database import DEFAULT_DATA_DIR
from commands.foreground import stop_on_signals
from commands.open_files import raise_open_files_limit
from commands.port_number import port_number
from commands.runtime import running_service
from connect_local import LocalConnect, default_config
from connect_local.ready import ReadyFileUnwritable, write_ready_file
from connect_client import static_session
from commands.start_refusal import refusal_code
from net.server_thread import CannotListen
from service import local_regions
from service.connector_runner import ConnectorRunner
from service.demo_worker import DEMO_FAILOVER_NAME, DEMO_FAILOVER_REGION, ensure_demo_worker
from store import EventStore, StoreError
from store.service_lock import ServiceAlreadyRunning, service_running
from store.clients import ApiClients
from store.data_folder import prepare_data_folder
from store.workers import WorkerRegistry

DEMO_CLIENT_NAME = "demo-bot"
DEMO_TOKEN_FILE = "demo-client-token"
DEMO_SIGNING_SECRET_FILE = "demo-client-signing-secret"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The embedded default's options, on run.py's own parser."""
    parser.add_argument(
        "--data", type=Path, default=DEFAULT_DATA_DIR, help="data folder of the embedded default (default ./data)"
    )
    parser.add_argument(
        "--ready-file", type=Path, help="once listening, write a JSON object with the endpoints here"
    )
    parser.add_argument("--api-port", type=port_number, default=0, help="port of the bots' HTTP API (default: a free one)")
    parser.add_argument(
        "--agent",
        choices=("simulated", "human"),
        default="simulated",
        help="who answers in the local Amazon Connect: the simulated agent Ana (default), "
        "or a person on the agent page (chats wait in the queue until accepted there)",
    )
    parser.add_argument(
        "--max-body-bytes",
        type=int,
        default=DEFAULT_MAX_BODY_BYTES,
        help=f"largest request body the API reads; a larger one is refused with 413 (default {DEFAULT_MAX_BODY_BYTES:,})",
    )


def run(args: argparse.Namespace) -> int:
    store_path = args.data / "events.db"
    raise_open_files_limit()
    collect_less()
    try:
        prepare_data_folder(args.data)
        if service_running(store_path):
            raise ServiceAlreadyRunning(store_path)
        store = EventStore.open(store_path)
    except StoreError as error:
        print(f"run.py: {error}")
        return 2
    connect_config = default_config(
        agents=[] if args.agent == "human" else None, regions=("us-east-1", DEMO_FAILOVER_REGION)
    )
    try:
        with store, LocalConnect(connect_config) as connect:
            connect_info = connect.ready_info()
            worker_id = ensure_demo_worker(WorkerRegistry(store), connect_info)
            # The local Amazon Connect also serves Translate and SES: the demo's connectors call it.
            connectors = ConnectorRunner(
                store, credentials=lambda reference: static_session(),
                endpoints={"Translate": connect.endpoint_url, "SES": connect.endpoint_url},
            )
            with running_service(
                store, local_regions(connect.endpoint_url), port=args.api_port, max_body_bytes=args.max_body_bytes,
                run_connector=connectors,
            ) as running:
                freeze_when_recovered(running.service)
                token_file = ensure_demo_client(running.clients, args.data)
                info = {
                    **connect_info,
                    "api_url": running.api_url,
                    "api_token_file": str(token_file.resolve()),
                    "openapi_url": running.openapi_url,
                    "operator_page_url": running.operator_page_url,
                    "demo_worker_id": worker_id,
                    "store_path": str(store_path.resolve()),
                }
                stop = stop_on_signals()
                if args.ready_file:
                    write_ready_file(args.ready_file, info)
                _print_welcome(info, human_agent=args.agent == "human")
                stop.wait()
    except (CannotListen, ReadyFileUnwritable) as error:
        print(f"run.py: {error}")
        return refusal_code(error)
    return 0


def ensure_demo_client(clients: ApiClients, data_dir: Path) -> Path:
    """The file holding the demo client's token: the one there if it still works, else a new client's.

    The token file (and the signing secret's beside it) is written 0600; the
    token is never printed, only where it is.
    """
    token_file = data_dir / DEMO_TOKEN_FILE
    try:
        token = token_file.read_text().strip()
    except FileNotFoundError:
        token = ""
    if token and clients.authenticate(token) is not None:
        return token_file
    made = clients.create(DEMO_CLIENT_NAME)
    write_secret_file(token_file, made.token)
    write_secret_file(data_dir / DEMO_SIGNING_SECRET_FILE, made.signing_secret)
    return token_file


def _print_welcome(info: dict, *, human_agent: bool) -> None:
    print(f"bots' HTTP API       {info['api_url']}  (OpenAPI: {info['openapi_url']})")
    print(f"API token            of the client {DEMO_CLIENT_NAME!r}, in {info['api_token_file']}")
    print(f"agent page           {info['agent_page_url']}")
    print(
        f"operator page        {info['operator_page_url']}  (an admin client's token: "
        f"python run.py client create ops --admin --db {info['store_path']})"
    )
    print(f"local Amazon Connect {info['endpoint_url']} (region {info['region']})")
    print(f"event store          {info['store_path']}")
    print(f"demo worker          {info['demo_worker_id']} (failover region {DEMO_FAILOVER_NAME!r}: {DEMO_FAILOVER_REGION})")
    if human_agent:
        print("Hand a first conversation over, accept it on the agent page (no simulated agent answers), then say something:")
    else:
        print("Hand a first conversation over; once the simulated agent Ana has joined (the events show it), say something:")
    auth = f"-H \"Authorization: Bearer $(cat {info['api_token_file']})\" -H 'Content-Type: application/json'"
    # A fresh id every start: the curl lines work each time (an id, once used, is never transferred again).
    conversation = f"hello-{secrets.token_hex(3)}"
    print(
        f"  curl -s {auth} -d '{{\"ConversationId\":\"{conversation}\",\"WorkerId\":\"{info['demo_worker_id']}\","
        f"\"BotName\":\"DemoBot\",\"Context\":{{\"name\":\"Maya\"}},\"DeliverTo\":null}}' {info['api_url']}/v1/conversations"
    )
    print(
        f"  curl -s {auth} -d '{{\"MessageId\":\"m-1\",\"Text\":\"Hello\"}}' "
        f"{info['api_url']}/v1/conversations/{conversation}/messages"
    )
    print(f"  curl -s {auth} '{info['api_url']}/v1/conversations/{conversation}/events?after=0'")
    print("Switch the demo worker's region (live chats start again there), and back:")
    print(f"  python run.py failover {info['demo_worker_id']} --to {DEMO_FAILOVER_NAME} --move --db {info['store_path']}")
    print(f"  python run.py failover {info['demo_worker_id']} --primary --move --db {info['store_path']}")
    print("Stop with Ctrl-C.", flush=True)
