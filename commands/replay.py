"""`run.py replay CONVERSATION`: the conversation's events in order, with the state after each.

It folds through `store.conversations.replay`, the very code recovery uses,
so what it shows is what the service would rebuild.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from commands.database import add_db_argument, open_existing_store
from commands.export import exported_event, exported_state, state_summary
from events import EventDecodeError
from store import StoreError
from store.conversations import replay


def register(subcommands: Any) -> None:
    parser = subcommands.add_parser(
        "replay",
        help="print a conversation's events in order with the state after each",
        description="Print a conversation's events in order with the state after each (tokens redacted).",
    )
    parser.add_argument("conversation", metavar="CONVERSATION", help="the conversation id")
    parser.add_argument("--until", type=int, metavar="SEQ", help="stop after the event with this sequence number")
    parser.add_argument("--json", action="store_true", help="one JSON object per event: the event and the whole state")
    add_db_argument(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        with open_existing_store(args.db) as store:
            printed = 0
            for step in replay(store, args.conversation, until_seq=args.until):
                _print_step(step, as_json=args.json)
                printed += 1
    except (StoreError, FileNotFoundError) as error:
        print(f"replay: {error}", file=sys.stderr)
        return 2
    except EventDecodeError as error:
        print(f"replay: conversation {args.conversation!r}, event {printed + 1}: {error}", file=sys.stderr)
        return 2
    if printed == 0:
        print(f"replay: no events for conversation {args.conversation!r} in {args.db}", file=sys.stderr)
        return 1
    return 0


def _print_step(step: Any, *, as_json: bool) -> None:
    event = exported_event(step.stored)
    if as_json:
        print(json.dumps({**event, "state": exported_state(step.state)}, sort_keys=True), flush=True)
        return
    body = dict(event["event"])
    kind = body.pop("type")
    print(f"#{event['seq']:<4} {event['recorded_at']}  {kind}  {json.dumps(body, sort_keys=True)}")
    print(f"      -> {state_summary(step.state)}", flush=True)
