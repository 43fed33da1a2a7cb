"""`run.py connector ...`: create, read, change and delete connectors (the seed's "BaaS")."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from commands.database import add_db_argument, open_store_for_writing
from connectors.config import ConnectorConfig, InvalidConnectorConfig, encode_connector_config, parse_connector_config
from events.rejection import Rejected
from store import StoreError
from store.connectors import ConnectorRegistry, UnknownConnector


def register(subcommands: Any) -> None:
    parser = subcommands.add_parser("connector", help="create, show, change and delete connectors")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    for name, help_text, run, arguments in (
        ("create", "store a connector from FILE.json and print its new ID", _create, ("file",)),
        ("get", "print a connector's configuration", _get, ("id",)),
        ("list", "list the connectors: ID, alias, type, endpoint.method", _list, ()),
        ("update", "replace a connector's configuration with FILE.json", _update, ("id", "file")),
        ("delete", "delete a connector", _delete, ("id",)),
    ):
        verb = verbs.add_parser(name, help=help_text, description=help_text)
        for argument in arguments:
            verb.add_argument(argument, type=Path if argument == "file" else str, metavar=argument.upper())
        add_db_argument(verb)
        verb.set_defaults(run=_guarded(run))


def _guarded(run: Any) -> Any:
    """Turn the typed errors of connectors into a message and exit code 2."""

    def guarded(args: argparse.Namespace) -> int:
        try:
            return run(args)
        except InvalidConnectorConfig as error:
            for problem in error.problems:
                print(f"{args.file}: {problem}", file=sys.stderr)
            return 2
        except (UnknownConnector, StoreError) as error:
            print(f"connector {args.verb}: {error}", file=sys.stderr)
            return 2
        except Rejected as rejection:
            print(f"connector {args.verb}: {rejection.message}", file=sys.stderr)
            return 2
        except OSError as error:
            print(f"connector {args.verb}: {error.filename}: {error.strerror}", file=sys.stderr)
            return 2

    return guarded


def _read_config(path: Path) -> ConnectorConfig:
    return parse_connector_config(path.read_bytes())


@contextmanager
def _registry(args: argparse.Namespace) -> Iterator[ConnectorRegistry]:
    with open_store_for_writing(args.db) as store:
        yield ConnectorRegistry(store)


def _create(args: argparse.Namespace) -> int:
    config = _read_config(args.file)
    with _registry(args) as registry:
        print(registry.create(config, at=time.time()))
    return 0


def _get(args: argparse.Namespace) -> int:
    with _registry(args) as registry:
        print(encode_connector_config(registry.get(args.id)).decode())
    return 0


def _list(args: argparse.Namespace) -> int:
    with _registry(args) as registry:
        connectors = registry.list()
    for connector_id, config in connectors.items():
        print(f"{connector_id}  {config.alias}  {config.type}  {config.endpoint}.{config.method}")
    return 0


def _update(args: argparse.Namespace) -> int:
    config = _read_config(args.file)
    with _registry(args) as registry:
        registry.update(args.id, config, at=time.time())
    print(f"updated {args.id}")
    return 0


def _delete(args: argparse.Namespace) -> int:
    with _registry(args) as registry:
        registry.delete(args.id, at=time.time())
    print(f"deleted {args.id}")
    return 0
