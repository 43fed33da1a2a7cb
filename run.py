"""The single entry point of the connect worker.

`python run.py --help` lists the subcommands. Each subcommand lives in its own
module under `commands/`, which adds its parser and the function that runs it.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from commands import COMMAND_MODULES, embedded
from commands.closed_pipe import quiet_on_closed_pipe


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="run.py",
        description="Hand chatbot conversations to Amazon Connect agents and back."
        " With no COMMAND, run the embedded default on loopback.",
    )
    embedded.add_arguments(parser)
    subcommands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(subcommands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # Warnings and errors (a chat socket's retries, a webhook refused, ...) go to stderr with the time;
    # they name conversations and reasons, never a token or a URL with one.
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Every command, the long-running ones included, stops quietly if its output is a closed pipe.
    return quiet_on_closed_pipe(embedded.run if args.command is None else args.run)(args)


if __name__ == "__main__":
    sys.exit(main())
