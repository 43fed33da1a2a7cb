"""`run.py connect-local`: the local Amazon Connect in the foreground, until
SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from connect_local import InvalidConfig, LocalConnect, default_config, load_config
from commands.collector import collect_less
from commands.foreground import stop_on_signals
from commands.open_files import raise_open_files_limit
from commands.port_number import port_number
from connect_local.ready import ReadyFileUnwritable, write_ready_file
from commands.start_refusal import refusal_code
from net.server_thread import CannotListen


def register(subcommands: Any) -> None:
    parser = subcommands.add_parser(
        "connect-local",
        help="run the local Amazon Connect chat service (REST + WebSocket, simulated agents, agent page)",
        description="Run a local Amazon Connect chat service that boto3 and websocket-client talk to over loopback.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=port_number, default=0, help="port to listen on (default: a free one)")
    parser.add_argument("--config", type=Path, help="JSON configuration: regions, instances, flows, queues, hours, agents")
    parser.add_argument("--ready-file", type=Path, help="write a JSON object with the endpoints here once listening")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config.read_bytes()) if args.config else default_config()
    except OSError as error:
        print(f"connect-local: cannot read {args.config}: {error.strerror}")
        return 2
    except InvalidConfig as error:
        print(f"connect-local: {args.config}: {error}")
        return 2
    raise_open_files_limit()
    collect_less()  # as `serve`: it holds every chat it serves, and a full collection stops them all
    try:
        server = LocalConnect(config, host=args.host, port=args.port).start()
    except CannotListen as error:
        print(f"connect-local: {error}")
        return refusal_code(error)
    try:
        info = server.ready_info()
        stop = stop_on_signals()
        if args.ready_file:
            try:
                write_ready_file(args.ready_file, info)
            except ReadyFileUnwritable as error:
                print(f"connect-local: {error}")
                return 2
        print(f"connect-local listening on {info['endpoint_url']}", flush=True)
        print(f"  region {info['region']}, instance {info['instance_id']}, contact flow {info['contact_flow_id']}")
        print(f"  agent page {info['agent_page_url']}, agent API {info['agent_api_url']}", flush=True)
        stop.wait()
    finally:
        server.stop()
    print("connect-local stopped", flush=True)
    return 0
