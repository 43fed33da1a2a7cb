"""`run.py store backup DEST`: a copy of the event store, safe to take while the service runs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from commands.database import add_db_argument, local_store_path, log_name
from commands.store_table import add_create_table
from store import StoreError
from store.backup import back_up


def register(subcommands: Any) -> None:
    parser = subcommands.add_parser("store", help="look after the event store: back its file up, create its DynamoDB table")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    backup = verbs.add_parser(
        "backup",
        help="copy the event store into a new file, safely while the service runs",
        description="Copy the event store (events, API clients, the local vault's values) into DEST, a new "
        "file made 0600, with SQLite's online backup: the service may go on appending meanwhile. "
        "The local vault's key file (DATA/vault-secret.key) is not in it: keep a copy of it apart.",
    )
    backup.add_argument("destination", type=Path, metavar="DEST", help="the file to write; it must not exist")
    add_db_argument(backup)
    backup.set_defaults(run=run_backup)
    add_create_table(verbs)


def run_backup(args: argparse.Namespace) -> int:
    if args.config is not None and args.config.config.store.dynamodb is not None:
        print(
            f"store backup: {args.config.path} keeps the log in {log_name(args)}: this copies an SQLite log only; "
            "back the table up with DynamoDB's own backups",
            file=sys.stderr,
        )
        return 2
    source = local_store_path(args)
    try:
        made = back_up(source, args.destination)
    except StoreError as error:
        print(f"store backup: {error}", file=sys.stderr)
        return 2
    print(
        f"backed up {source} to {made.path}: {made.size:,} bytes, events up to position {made.last_position}, "
        f"schema version {made.schema_version}"
    )
    return 0
