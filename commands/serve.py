"""`run.py serve --config FILE`: the worker service and the bots' HTTP API against Amazon Connect."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from api.request_body import DEFAULT_MAX_BODY_BYTES
from commands.foreground import stop_on_signals
from commands.collector import collect_less, freeze_when_recovered
from commands.open_files import raise_open_files_limit
from connect_local.ready import ReadyFileUnwritable, write_ready_file
from commands.runtime import running_service
from commands.start_refusal import refusal_code
from net.server_thread import CannotListen
from service.serve_config import (
    InvalidServeConfig,
    cluster_node,
    connector_runner,
    load_serve_config,
    open_event_log,
    open_vault,
    region_clients,
    role_sessions,
)
from store import StoreError
from store.service_lock import ServiceAlreadyRunning, service_running
from store.data_folder import prepare_data_folder
from vault import VaultError

log = logging.getLogger(__name__)


def register(subcommands: Any) -> None:
    parser = subcommands.add_parser(
        "serve",
        help="run the worker service and the bots' HTTP API against Amazon Connect",
        description="Run the worker service: the bots' HTTP API, conversation actors, recovery of live conversations.",
    )
    parser.add_argument("--config", type=Path, required=True, help="JSON: data_dir, api_host, api_port, regions, store")
    parser.add_argument("--ready-file", type=Path, help="once listening, write a JSON object with the endpoints here")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        config = load_serve_config(args.config.read_bytes())
    except OSError as error:
        print(f"serve: cannot read {args.config}: {error.strerror}")
        return 2
    except InvalidServeConfig as error:
        print(f"serve: {args.config}: {error}")
        return 2
    store_path = config.store_path
    raise_open_files_limit()
    collect_less()
    try:
        prepare_data_folder(config.data_path)
        if service_running(store_path):
            raise ServiceAlreadyRunning(store_path)
        store = open_event_log(config)
    except StoreError as error:
        print(f"serve: {error}")
        return 2
    try:
        vault = open_vault(config.vault, store_path)
    except VaultError as error:
        store.close()
        print(f"serve: {error}")
        return 2
    roles = role_sessions(config, vault)
    try:
        with store, running_service(
            store,
            region_clients(config, vault, roles=roles),
            host=config.api_host,
            port=config.api_port,
            max_body_bytes=config.max_body_bytes or DEFAULT_MAX_BODY_BYTES,
            queue_metrics_ttl=config.queue_metrics_cache_seconds,
            run_connector=connector_runner(config, store, vault, roles=roles),
            vault=vault,
            auto_failover=config.auto_failover,
            delivery_lag_limit=config.delivery_lag_limit_seconds,
            cluster=cluster_node(config, store),
        ) as running:
            freeze_when_recovered(running.service)
            if not any(not client.revoked for client in running.clients.list()):
                log.warning(
                    "no API clients: every request but /openapi.json, /healthz, /readyz and the operator page's "
                    "files (/operator) is refused with 401; create one with "
                    "`python run.py client create NAME --config %s` (it prints the token once)",
                    args.config,
                )
            info = {
                "api_url": running.api_url,
                "openapi_url": running.openapi_url,
                "operator_page_url": running.operator_page_url,
                "store_path": str(store_path.resolve()),
            }
            stop = stop_on_signals()
            if args.ready_file:
                write_ready_file(args.ready_file, info)
            print(f"bots' HTTP API {info['api_url']} (clients: python run.py client list --db {store_path})", flush=True)
            print(
                f"operator page {info['operator_page_url']} (with an admin client's token: "
                f"python run.py client create NAME --admin --db {store_path})",
                flush=True,
            )
            if config.cluster is not None:
                print(
                    f"cluster node {config.cluster.node_id} at {config.cluster.url}: leases of "
                    f"{config.cluster.lease_seconds:g} s in DynamoDB table {config.store.dynamodb.table}",  # type: ignore[union-attr]
                    flush=True,
                )
            if config.auto_failover is not None:
                print(
                    f"automatic failover on: a worker's region failing for {config.auto_failover.after_seconds:g} s is "
                    f"left ({config.auto_failover.mode})",
                    flush=True,
                )
            stop.wait()
    except (CannotListen, ReadyFileUnwritable) as error:
        print(f"serve: {error}")
        return refusal_code(error)
    return 0
