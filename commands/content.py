"""`run.py content ...`: a worker's content items, the texts its `content` slash-command actions send.

    python run.py content put WORKER_ID welcomewithname --text 'Welcome, {{name}}!'
    python run.py content put WORKER_ID terms --file terms.txt
    python run.py content get WORKER_ID welcomewithname
    python run.py content list WORKER_ID
    python run.py content delete WORKER_ID welcomewithname
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import msgspec

from commands.database import add_db_argument, open_log_for_writing
from events.content import MAX_CONTENT_BYTES, ContentKey
from store import StoreError
from store.content import ContentRegistry
from store.workers import UnknownWorker, WorkerRegistry


class BadContent(ValueError):
    """A key or a text the command refuses; the message names the argument."""


def register(subcommands: Any) -> None:
    parser = subcommands.add_parser("content", help="put, show, list and delete a worker's content items")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    put = verbs.add_parser(
        "put",
        help="store (or replace) a content item",
        description="Store or replace a content item; its {{Name}} placeholders are filled from the"
        " conversation's context when a slash command sends it.",
    )
    put.add_argument("worker_id", metavar="WORKER_ID")
    put.add_argument("key", metavar="KEY")
    source = put.add_mutually_exclusive_group(required=True)
    source.add_argument("--text", help="the item's text")
    source.add_argument("--file", type=Path, help="a UTF-8 file holding the item's text")
    put.set_defaults(run=_guarded(_put))
    get = verbs.add_parser("get", help="print a content item's text")
    get.add_argument("worker_id", metavar="WORKER_ID")
    get.add_argument("key", metavar="KEY")
    get.set_defaults(run=_guarded(_get))
    listing = verbs.add_parser("list", help="list a worker's content keys and their sizes")
    listing.add_argument("worker_id", metavar="WORKER_ID")
    listing.set_defaults(run=_guarded(_list))
    delete = verbs.add_parser("delete", help="delete a content item")
    delete.add_argument("worker_id", metavar="WORKER_ID")
    delete.add_argument("key", metavar="KEY")
    delete.set_defaults(run=_guarded(_delete))
    for verb in (put, get, listing, delete):
        add_db_argument(verb)


def _guarded(run: Any) -> Any:
    def guarded(args: argparse.Namespace) -> int:
        try:
            return run(args)
        except (UnknownWorker, BadContent, StoreError) as error:
            print(f"content {args.verb}: {error}", file=sys.stderr)
            return 2
        except OSError as error:
            print(f"content {args.verb}: {error.filename}: {error.strerror}", file=sys.stderr)
            return 2

    return guarded


@contextmanager
def _content(args: argparse.Namespace) -> Iterator[ContentRegistry]:
    """The content registry, once the worker is known to exist."""
    with open_log_for_writing(args) as store:
        WorkerRegistry(store).get(args.worker_id)
        yield ContentRegistry(store)


def _put(args: argparse.Namespace) -> int:
    key = _checked_key(args.key)
    text = args.text if args.text is not None else _read_text(args.file)
    if not text:
        raise BadContent("the text is empty")
    if len(text.encode()) > MAX_CONTENT_BYTES:
        raise BadContent(f"the text is {len(text.encode()):,} bytes; at most {MAX_CONTENT_BYTES:,}")
    with _content(args) as content:
        content.put(args.worker_id, key, text, at=time.time())
    print(f"put {key}")
    return 0


def _get(args: argparse.Namespace) -> int:
    with _content(args) as content:
        text = content.get(args.worker_id, args.key)
    if text is None:
        raise BadContent(f"worker {args.worker_id} has no content item {args.key!r}")
    print(text)
    return 0


def _list(args: argparse.Namespace) -> int:
    with _content(args) as content:
        items = content.items(args.worker_id)
    for key in sorted(items):
        print(f"{key}  {len(items[key].encode()):,} bytes")
    return 0


def _delete(args: argparse.Namespace) -> int:
    with _content(args) as content:
        deleted = content.delete(args.worker_id, args.key, at=time.time())
    if not deleted:
        raise BadContent(f"worker {args.worker_id} has no content item {args.key!r}")
    print(f"deleted {args.key}")
    return 0


def _checked_key(key: str) -> str:
    try:
        return msgspec.convert(key, ContentKey)
    except msgspec.ValidationError:
        raise BadContent(f"KEY: {key[:60]!r} is not a content key: 1 to 128 letters, digits, '.', '_', ':' or '-'") from None


def _read_text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadContent(f"--file {path}: not UTF-8 (byte {error.start})") from None
