"""`run.py events tail`: the newest events of every stream, and with --follow each new one as it lands.
`run.py events export CONVERSATION`: one conversation's events, redacted, as a file that `run.py replay
--file` reads on another machine (store/conversation_file.py)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from typing import Any

from commands.closed_pipe import raise_if_reader_gone
from commands.database import add_db_argument, log_name, open_existing_log
from commands.export import exported_event
from commands.foreground import stop_on_signals
from events import EventDecodeError
from logs import Progress
from store import StoreError
from store.conversation_file import write_conversation
from store.conversations import conversation_stream
from store.event_log import EventLog
from store.records import StoredEvent

log = logging.getLogger(__name__)

FOLLOW_WAIT_SECONDS = 1.0


def register(subcommands: Any) -> None:
    parser = subcommands.add_parser("events", help="read the event log")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    tail = verbs.add_parser(
        "tail",
        help="print the newest events (tokens redacted); --follow keeps printing new ones",
        description="Print the newest events of every stream, one JSON object a line (tokens redacted).",
    )
    tail.add_argument("--last", type=_count, default=10, metavar="N", help="start with the last N events (default 10; 0 or more)")
    tail.add_argument("--after", type=_count, metavar="POSITION", help="start after this global position instead (0 or more)")
    tail.add_argument("--follow", "-f", action="store_true", help="keep printing events as they land, until Ctrl-C")
    add_db_argument(tail)
    tail.set_defaults(run=run_tail)
    export = verbs.add_parser(
        "export",
        help="write a conversation's events, redacted, for `replay --file` on another machine",
        description="Write one conversation's events to stdout as JSON lines: a header (format version,"
        " conversation id, exported-at), then each event as stored, its tokens redacted."
        " `run.py replay --file FILE` replays it with no store and no AWS.",
    )
    export.add_argument("conversation", metavar="CONVERSATION", help="the conversation id")
    add_db_argument(export)
    export.set_defaults(run=run_export)


def _count(text: str) -> int:
    """A number of events or a log position: a whole number, 0 or more."""
    try:
        number = int(text)
    except ValueError:
        number = -1
    if number < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number 0 or more")
    return number


def run_tail(args: argparse.Namespace) -> int:
    # Following, it runs until stopped: SIGINT or SIGTERM ends it cleanly (exit 0), within a wait, even
    # when it was started with SIGINT ignored (a background job of a script).
    stop = stop_on_signals() if args.follow else None
    try:
        with open_existing_log(args) as store:
            position = args.after if args.after is not None else max(store.last_position() - args.last, 0)
            position = _print_after(store, position)
            while stop is not None and not stop.is_set():
                if store.wait_for_position(position, FOLLOW_WAIT_SECONDS):
                    position = _print_after(store, position)
                raise_if_reader_gone()
    except (StoreError, FileNotFoundError) as error:
        print(f"events tail: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    return 0


def run_export(args: argparse.Namespace) -> int:
    written = 0

    def one_more() -> None:
        nonlocal written
        written += 1
        progress.advance()

    try:
        with open_existing_log(args) as store:
            events = store.read_stream(conversation_stream(args.conversation))
        if not events:
            print(f"events export: no events for conversation {args.conversation!r} in {log_name(args)}", file=sys.stderr)
            return 1
        what = f"exporting {args.conversation}"
        with Progress(what, len(events), log=log, unit="events", shown=not sys.stdout.isatty()) as progress:
            write_conversation(sys.stdout, args.conversation, events, exported_at=time.time(), on_event=one_more)
        sys.stdout.flush()
    except (StoreError, FileNotFoundError) as error:
        print(f"events export: {error}", file=sys.stderr)
        return 2
    except EventDecodeError as error:
        print(
            f"events export: conversation {args.conversation!r}, event {written + 1}: {error}"
            " (the export stops there: it is incomplete)",
            file=sys.stderr,
        )
        return 2
    log.info("exported %d events of conversation %s", written, args.conversation)
    return 0


def _print_after(store: EventLog, position: int) -> int:
    """Print every event after `position`; return the last position printed."""
    while batch := store.read_all(after_position=position):
        for stored in batch:
            print(_line(stored), flush=True)
        position = batch[-1].position
    return position


def _line(stored: StoredEvent) -> str:
    try:
        return json.dumps(exported_event(stored), sort_keys=True)
    except EventDecodeError as error:
        return json.dumps({"position": stored.position, "stream": stored.stream, "seq": stored.seq, "error": str(error)})
