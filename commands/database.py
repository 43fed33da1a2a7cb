"""Where the commands find the event log: `--db PATH` (an SQLite file) or `--config FILE` (serve's
configuration, whose `store` says where the log is: the SQLite file `DATA/events.db` or a DynamoDB
table). One option pair for every command that reads or writes the log, so that a command finds the
log `serve` writes, opened by serve's own `open_event_log`.

The SQLite file (`local_store_path`) is there either way: with a DynamoDB log it keeps what is not the
log and is this node's own (the local vault, the delivery tail), and names the service lock and status
file beside it; the API clients go with the log (`store.clients_of`; docs/dynamodb-store.md).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from service.serve_config import InvalidServeConfig, ServeConfig, load_serve_config, open_event_log
from store import EventStore
from store.data_folder import prepare_data_folder
from store.event_log import EventLog

DEFAULT_DATA_DIR = Path("data")
DEFAULT_DB = DEFAULT_DATA_DIR / "events.db"


@dataclass(frozen=True)
class ConfigFile:
    """`--config FILE`, read and checked as serve reads it, with its path for messages."""

    path: Path
    config: ServeConfig


def _config_file(text: str) -> ConfigFile:
    """argparse's type for `--config`: a file that cannot be read, or a configuration serve would refuse,
    is a usage error (exit code 2) naming the file and the field."""
    path = Path(text)
    try:
        return ConfigFile(path, load_serve_config(path.read_bytes()))
    except OSError as error:
        raise argparse.ArgumentTypeError(f"{path}: {error.strerror}") from None
    except InvalidServeConfig as error:
        raise argparse.ArgumentTypeError(f"{path}: {error}") from None


def add_db_argument(parser: argparse.ArgumentParser) -> None:
    """`--db PATH` or `--config FILE`, not both (argparse refuses the pair naming them)."""
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--db", type=Path, default=DEFAULT_DB, help=f"the event store's SQLite file (default {DEFAULT_DB})"
    )
    where.add_argument(
        "--config",
        type=_config_file,
        metavar="FILE",
        help="serve's configuration instead of --db: the event log its store names (DATA/events.db or a "
        "DynamoDB table), and DATA/events.db for what is not the log",
    )


def local_store_path(args: argparse.Namespace) -> Path:
    """The SQLite file: `--db`, or `--config`'s `DATA/events.db`. It holds the log unless `--config`
    puts the log in DynamoDB; it always holds what is not the log."""
    return args.config.config.store_path if args.config is not None else args.db


def log_name(args: argparse.Namespace) -> str:
    """The log in words, for messages: the SQLite file's path, or the DynamoDB table `--config` names."""
    dynamodb = args.config.config.store.dynamodb if args.config is not None else None
    if dynamodb is None:
        return str(local_store_path(args))
    return f"DynamoDB table {dynamodb.table} ({dynamodb.region})"


def open_existing_log(args: argparse.Namespace) -> EventLog:
    """The log `--db` or `--config` names, for reading: a missing SQLite file is an error naming the
    option (FileNotFoundError), not a new empty store. A missing DynamoDB table is the store's own
    error (`DynamoTableError`, a StoreError)."""
    _refuse_missing_sqlite_log(args)
    if args.config is None:
        return EventStore.open(args.db)
    return _open_configured(args.config)


def open_log_for_writing(args: argparse.Namespace, *, create: bool = True) -> EventLog:
    """The log `--db` or `--config` names, for writing, in a data folder kept owner-only (as
    `open_store_for_writing`); with `create=False` a missing SQLite file is an error, as for reading."""
    if not create:
        _refuse_missing_sqlite_log(args)
    if args.config is None:
        return open_store_for_writing(args.db)
    return _open_configured(args.config)


def _refuse_missing_sqlite_log(args: argparse.Namespace) -> None:
    """A missing file, or an empty one (which SQLite would take for an empty database and a command
    would make into a store), is no event store to read."""
    if args.config is None:
        if not _holds_a_store(args.db):
            raise FileNotFoundError(f"--db: no event store at {args.db}{_empty(args.db)}")
    elif args.config.config.store.dynamodb is None and not _holds_a_store(path := args.config.config.store_path):
        raise FileNotFoundError(f"--config {args.config.path}: no event store at {path}{_empty(path)} ($.data_dir)")


def _holds_a_store(path: Path) -> bool:
    return path.exists() and (not path.is_file() or path.stat().st_size > 0)  # a folder: the store says so


def _empty(path: Path) -> str:
    return " (an empty file)" if path.exists() else ""


def _open_configured(given: ConfigFile) -> EventLog:
    """serve's log, opened as serve opens it: its data folder prepared (made 0700 if missing, refused if
    others can read it), then `open_event_log`, which for a DynamoDB log also makes the SQLite file."""
    prepare_data_folder(given.config.data_path)
    return open_event_log(given.config)


def open_store_for_writing(path: Path) -> EventStore:
    """Open (or create) the store a command writes to, in a data folder kept owner-only: a missing
    folder is created 0700, and one whose secrets others can read is refused (`DataFolderNotPrivate`)."""
    prepare_data_folder(path.parent)
    return EventStore.open(path)
