"""`run.py replay CONVERSATION`: a conversation's history as a readable timeline, from the store or
from a file `run.py events export` wrote (`--file`, no store and no AWS needed).

It folds through `store.conversations.fold`, the very code recovery uses, so what it shows is what the
service would rebuild. `--json` prints one object per event with the whole state, for tools.
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import json
import logging
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

from commands import timeline
from commands.database import add_db_argument, log_name, open_existing_log
from commands.export import exported_event, exported_state, state_summary, timestamp
from events import ConversationState, EventDecodeError, initial_state
from logs import Progress
from store import StoreError
from store.conversation_file import ConversationFileError, ExportedConversation
from store.conversations import ReplayStep, conversation_stream, fold
from store.records import StoredEvent

log = logging.getLogger(__name__)


def register(subcommands: Any) -> None:
    parser = subcommands.add_parser(
        "replay",
        help="a conversation's history as a timeline: who said what, and what changed in its state",
        description="Print a conversation's events in order: time, who, what, and what changed in the state"
        " (tokens redacted); from the store, or from a file `events export` wrote (--file).",
    )
    parser.add_argument("conversation", metavar="CONVERSATION", nargs="?", help="the conversation id (optional with --file)")
    parser.add_argument("--file", type=Path, metavar="FILE", help="replay an exported conversation (`events export`) instead of the store")
    parser.add_argument("--until", type=_sequence_number, metavar="SEQ", help="stop after the event with this sequence number (1 or more)")
    parser.add_argument(
        "--at", type=_iso_time, metavar="TIME",
        help="stop at this time (ISO 8601, UTC unless it says otherwise): the state as of then",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per event: the event and the whole state")
    add_db_argument(parser)
    parser.set_defaults(run=run)


class _Source(NamedTuple):
    conversation_id: str
    events: Iterable[StoredEvent]
    total: int
    where: str  # for messages: the store's path or the file's


def run(args: argparse.Namespace) -> int:
    if args.conversation is None and args.file is None:
        print("replay: name a CONVERSATION, or an exported one with --file FILE", file=sys.stderr)
        return 2
    # Every event is read and folded before a line is printed: a log that cannot be read whole is refused
    # with nothing printed, not shown in part above its error.
    steps: list[ReplayStep] = []
    try:
        with _source(args) as source:
            shown = not sys.stdout.isatty()  # at a terminal, the timeline comes too soon after for a bar
            with Progress(f"replaying {source.conversation_id}", source.total, log=log, unit="events", shown=shown) as progress:
                for step in fold(source.conversation_id, _until(source.events, seq=args.until, at=args.at)):
                    steps.append(step)
                    progress.advance()
            if not steps:
                when = f" at or before {timestamp(args.at)}" if args.at is not None else ""
                print(f"replay: no events for conversation {source.conversation_id!r}{when} in {source.where}", file=sys.stderr)
                return 1
            printer = _JsonPrinter() if args.json else _TimelinePrinter(source.conversation_id)
            for step in steps:
                printer.step(step)
            printer.end(args.at)
    except (StoreError, FileNotFoundError) as error:
        print(f"replay: {error}", file=sys.stderr)
        return 2
    except ConversationFileError as error:
        print(f"replay: {args.file}: {error}", file=sys.stderr)
        return 2
    except EventDecodeError as error:
        read = len(steps)
        before = f"; `--until {read}` shows the events before it" if read else ""
        if args.file is not None:
            print(f"replay: {args.file}: line {read + 2} (event {read + 1}): {error}{before}", file=sys.stderr)
        else:
            print(f"replay: conversation {args.conversation!r}, event {read + 1}: {error}{before}", file=sys.stderr)
        return 2
    return 0


@contextmanager
def _source(args: argparse.Namespace) -> Iterator[_Source]:
    if args.file is None:
        with open_existing_log(args) as store:
            events = store.read_stream(conversation_stream(args.conversation), until_seq=args.until)
            yield _Source(args.conversation, events, len(events), log_name(args))
        return
    try:
        opened = ExportedConversation.open(args.file)
    except OSError as error:
        raise ConversationFileError(error.strerror or str(error)) from None
    with opened as exported:
        if args.conversation is not None and args.conversation != exported.conversation_id:
            raise ConversationFileError(f"holds conversation {exported.conversation_id!r}, not {args.conversation!r}")
        # Read whole, so that a file cut short or out of order is refused even when `--until` stops before.
        yield _Source(exported.conversation_id, list(exported.events()), exported.header.events, str(args.file))


def _until(events: Iterable[StoredEvent], *, seq: int | None, at: float | None) -> Iterable[StoredEvent]:
    if seq is not None:
        events = itertools.takewhile(lambda stored: stored.seq <= seq, events)
    if at is not None:
        events = itertools.takewhile(lambda stored: stored.recorded_at <= at, events)
    return events


def _sequence_number(text: str) -> int:
    try:
        seq = int(text)
    except ValueError:
        seq = 0
    if seq < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not an event's sequence number: 1 or more (the #N of the timeline)")
    return seq


def _iso_time(text: str) -> float:
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 time, such as 2026-11-24T07:00:00Z") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.timestamp()


class _JsonPrinter:
    """Today's output for tools: one object per event, with the whole redacted state after it."""

    def step(self, step: ReplayStep) -> None:
        print(json.dumps({**exported_event(step.stored), "state": exported_state(step.state)}, sort_keys=True), flush=True)

    def end(self, at: float | None) -> None:
        pass


class _TimelinePrinter:
    """The timeline: a line a day, a line or two an event, and the state it ends with."""

    def __init__(self, conversation_id: str) -> None:
        self._before: ConversationState = initial_state(conversation_id)
        self._day: str | None = None
        self._last_seq = 0

    def step(self, step: ReplayStep) -> None:
        day = timeline.day(step.stored.recorded_at)
        if day != self._day:
            print(f"── {day} ──")
            self._day = day
        for line in timeline.event_lines(step.stored.seq, step.stored.recorded_at, step.event, self._before, step.state):
            print(line)
        sys.stdout.flush()
        self._before = step.state
        self._last_seq = step.stored.seq

    def end(self, at: float | None) -> None:
        when = f"as of {timestamp(at)} (after #{self._last_seq})" if at is not None else f"after #{self._last_seq}"
        print(f"state {when}: {state_summary(self._before)}", flush=True)
