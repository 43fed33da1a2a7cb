"""How far a long operation has got (recovery, a failover move, a replay or export of a large log).

At a terminal, a progress bar on stderr (tqdm), shown only once the operation has taken a second, so
short ones print nothing; otherwise (a service manager's journal, a pipe) an INFO line every few
seconds, which the JSON lines carry like any other.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from types import TracebackType
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from tqdm import tqdm

EVERY_SECONDS = 5.0
BAR_DELAY_SECONDS = 1.0


class Progress:
    """Counts the steps of one long operation and shows how far it is.

        with Progress("recovering conversations", total=len(ids), log=log) as progress:
            for conversation_id in ids:
                recover(conversation_id)
                progress.advance()

    `shown=False` shows nothing (a replay whose output is the terminal shows its own progress).
    """

    def __init__(
        self,
        what: str,
        total: int,
        *,
        log: logging.Logger,
        unit: str = "it",
        shown: bool = True,
        stream: TextIO | None = None,
        every_seconds: float | None = None,
        bar_delay: float = BAR_DELAY_SECONDS,
        bar_refresh: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.what = what
        self.total = total
        self.done = 0
        self._log = log
        self._unit = unit
        self._every = EVERY_SECONDS if every_seconds is None else every_seconds
        self._clock = clock
        self._last_line = clock()
        self._stack = ExitStack()
        stream = stream if stream is not None else sys.stderr
        self._lines = shown and not _is_terminal(stream)
        self._bar: tqdm | None = None  # type: ignore[type-arg]
        if shown and _is_terminal(stream):
            # Imported only for a bar: a service under a service manager (no terminal) never shows one.
            from tqdm import tqdm
            from tqdm.contrib.logging import logging_redirect_tqdm

            # Log lines written while the bar is up go above it, not through it.
            self._stack.enter_context(logging_redirect_tqdm())
            bar = tqdm(
                total=total, desc=what, unit=f" {unit}", file=stream, delay=bar_delay, mininterval=bar_refresh,
                leave=False, dynamic_ncols=True,
            )
            self._bar = self._stack.enter_context(bar)

    def advance(self, steps: int = 1) -> None:
        self.done += steps
        if self._bar is not None:
            self._bar.update(steps)
        elif self._lines and self._clock() - self._last_line >= self._every:
            self._last_line = self._clock()
            percent = 100 * self.done // self.total if self.total else 100
            self._log.info("%s: %d of %d %s (%d%%)", self.what, self.done, self.total, self._unit, percent)

    def close(self) -> None:
        self._stack.close()

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
