"""A command whose reader goes away early (`run.py replay X --json | head -1`) stops quietly.

Python ignores SIGPIPE, so a write to a pipe whose reader has closed raises BrokenPipeError, and
without this a traceback ends the output of every command that prints.
"""

from __future__ import annotations

import argparse
import functools
import os
import select
import sys
from collections.abc import Callable

# What a shell reports for a program that SIGPIPE stopped (128 + 13), as `yes | head -1` does.
CLOSED_PIPE_EXIT = 141

Run = Callable[[argparse.Namespace], int]


def raise_if_reader_gone() -> None:
    """BrokenPipeError when standard output is a pipe whose reader has closed, found without writing:
    a command that waits for something to print (`events tail --follow | head -1`) stops when its
    reader goes, not at its next line, which may be hours away. (A terminal or a file never says so.)"""
    try:
        fileno = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return  # not a file (a test's capture): nothing to ask
    poller = select.poll()
    poller.register(fileno, select.POLLOUT)
    if any(events & select.POLLERR for _, events in poller.poll(0)):
        raise BrokenPipeError(f"standard output's reader has gone (fd {fileno})")


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
