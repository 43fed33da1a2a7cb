"""A command whose reader goes away early (`run.py replay X --json | head -1`) stops quietly.

Python ignores SIGPIPE, so a write to a pipe whose reader has closed raises BrokenPipeError, and
without this a traceback ends the output of every command that prints.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
from collections.abc import Callable

# What a shell reports for a program that SIGPIPE stopped (128 + 13), as `yes | head -1` does.
CLOSED_PIPE_EXIT = 141

Run = Callable[[argparse.Namespace], int]


def quiet_on_closed_pipe(run: Run) -> Run:
    """`run`, stopping without a word (exit code 141) when its standard output is a closed pipe."""

    @functools.wraps(run)
    def quiet(args: argparse.Namespace) -> int:
        try:
            code = run(args)
            sys.stdout.flush()
            return code
        except BrokenPipeError:
            # Python's own recipe: stdout's buffer still holds output, and the interpreter flushes it at
            # exit; pointed at /dev/null, that flush cannot fail a second time.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
            return CLOSED_PIPE_EXIT

    return quiet
