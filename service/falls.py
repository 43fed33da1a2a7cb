"""How long to wait before starting a conversation's actor again after it fell.

An actor falls when it stops with its conversation unfinished: an exception while it handled a
report (a store write that failed, say), or its stream went on without it. The service starts it
again from the log without waiting for a bot's call or a timer (service/worker_service.py,
`revive`). A conversation that falls again and again (its store unreachable for minutes, a bug its
log meets at every start) must not be started in a tight loop, so the waits grow with the project's
one backoff; a fall long after the one before counts as a first one again.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from retry import Backoff

# A fall this long after the conversation's previous one counts as its first again.
RESET_SECONDS = 60.0


class Falls:
    """Each conversation's falls in a row, and the wait before its next start."""

    def __init__(self, backoff: Backoff, clock: Callable[[], float] = time.monotonic) -> None:
        self._backoff = backoff
        self._clock = clock
        # conversation -> (falls in a row, when the last was), the oldest last fall first
        self._last: OrderedDict[str, tuple[int, float]] = OrderedDict()
        self._lock = threading.Lock()

    def delay(self, conversation_id: str) -> float:
        """Count a fall of the conversation's actor now; the wait before starting it again."""
        now = self._clock()
        with self._lock:
            # Only recent falls are kept: the older would count as first ones anyway.
            while self._last and now - next(iter(self._last.values()))[1] > RESET_SECONDS:
                self._last.popitem(last=False)
            in_a_row = self._last.pop(conversation_id, (0, now))[0] + 1
            self._last[conversation_id] = (in_a_row, now)
        return self._backoff.delay(in_a_row)
