"""`run.py worker ...`: create, read, change and delete workers, as the seed's CLI does."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from commands.database import add_db_argument, open_store_for_writing
from events.rejection import Rejected
from events.worker_config import InvalidWorkerConfig, WorkerConfig, encode_worker_config, parse_worker_config
from store import StoreError
from store.workers import UnknownWorker, WorkerRegistry


def register(subcommands: Any) -> None:
    parser = subcommands.add_parser("worker", help="create, show, change and delete workers")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    for name, help_text, run, arguments in (
        ("create", "store a worker from FILE.json and print its new ID", _create, ("file",)),
        ("get", "print a worker's configuration", _get, ("id",)),
        ("list", "list the workers: ID, name, enabled, region", _list, ()),
        ("update", "replace a worker's configuration with FILE.json", _update, ("id", "file")),
        ("delete", "delete a worker", _delete, ("id",)),
        ("validate", "check FILE.json without storing it", _validate, ("file",)),
    ):
        verb = verbs.add_parser(name, help=help_text, description=help_text)
        for argument in arguments:
            verb.add_argument(argument, type=Path if argument == "file" else str, metavar=argument.upper())
        if name != "validate":
            add_db_argument(verb)
        verb.set_defaults(run=_guarded(run))


def _guarded(run: Any) -> Any:
    """Turn the typed errors of workers into a message and exit code 2."""

    def guarded(args: argparse.Namespace) -> int:
        try:
            return run(args)
        except InvalidWorkerConfig as error:
            for problem in error.problems:
                print(f"{args.file}: {problem}", file=sys.stderr)
            return 2
        except (UnknownWorker, Rejected, StoreError) as error:
            print(f"worker {args.verb}: {error}", file=sys.stderr)
            return 2
        except OSError as error:
            print(f"worker {args.verb}: {error.filename}: {error.strerror}", file=sys.stderr)
            return 2

    return guarded


def _read_config(path: Path) -> WorkerConfig:
    return parse_worker_config(path.read_bytes())


@contextmanager
def _registry(args: argparse.Namespace) -> Iterator[WorkerRegistry]:
    with open_store_for_writing(args.db) as store:
        yield WorkerRegistry(store)


def _create(args: argparse.Namespace) -> int:
    config = _read_config(args.file)
    with _registry(args) as registry:
        print(registry.create(config, at=time.time()))
    return 0


def _get(args: argparse.Namespace) -> int:
    with _registry(args) as registry:
        print(encode_worker_config(registry.get(args.id)).decode())
    return 0


def _list(args: argparse.Namespace) -> int:
    with _registry(args) as registry:
        workers = registry.list()
    for worker_id, config in workers.items():
        enabled = "enabled" if config.enabled else "disabled"
        print(f"{worker_id}  {config.name}  {enabled}  {config.data.region}")
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


def _validate(args: argparse.Namespace) -> int:
    config = _read_config(args.file)
    print(f"{args.file}: a valid worker named {config.name!r}")
    return 0
