"""`--log-format` and `--log-level`, which every command takes, before or after its name.

    run.py --log-level INFO serve --config serve.json
    run.py replay conv-42 --log-format json
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence

import logs

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--log-format",
        choices=logs.FORMATS,
        help="how log lines on stderr look (default: text when stderr is a terminal, json otherwise:"
        " one JSON object a line)",
    )
    parser.add_argument(
        "--log-level",
        type=str.upper,
        choices=LEVELS,
        default="WARNING",
        metavar="LEVEL",
        help="the least severe lines logged: DEBUG, INFO (recovery, failover orders, progress), WARNING (default), ERROR",
    )


def split(argv: Sequence[str], prog: str) -> tuple[argparse.Namespace, list[str]]:
    """The logging options wherever they are in `argv`, and the rest of it for the command's parser."""
    parser = argparse.ArgumentParser(prog=prog, add_help=False, allow_abbrev=False)
    add_arguments(parser)
    return parser.parse_known_args(argv)


def configure(options: argparse.Namespace) -> None:
    logs.configure(getattr(logging, options.log_level), options.log_format)
