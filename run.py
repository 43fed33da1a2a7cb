"""The single entry point of the connect worker.

`python run.py --help` lists the subcommands. Each subcommand lives in its own
module under `commands/`, which adds its parser and the function that runs it.
"""

from __future__ import annotations

import argparse
import faulthandler
import signal
import sys
from collections.abc import Sequence

from commands import COMMAND_MODULES, embedded, logging_options
from commands.closed_pipe import quiet_on_closed_pipe


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="run.py",
        description="Hand chatbot conversations to Amazon Connect agents and back."
        " With no COMMAND, run the embedded default on loopback.",
    )
    embedded.add_arguments(parser)
    logging_options.add_arguments(parser)
    subcommands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(subcommands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # `kill -USR1 PID` writes every thread's stack to stderr: what a stuck process is doing.
    faulthandler.register(signal.SIGUSR1, file=sys.__stderr__, all_threads=True)
    parser = build_parser()
    log_options, rest = logging_options.split(sys.argv[1:] if argv is None else argv, parser.prog)
    args = parser.parse_args(rest)
    # Warnings and errors (a chat socket's retries, a webhook refused, ...) go to stderr, one JSON object
    # a line (text at a terminal), with the conversation and worker; never a token (logs/scrub.py).
    logging_options.configure(log_options)
    # Every command, the long-running ones included, stops quietly if its output is a closed pipe.
    return quiet_on_closed_pipe(embedded.run if args.command is None else args.run)(args)


if __name__ == "__main__":
    sys.exit(main())
