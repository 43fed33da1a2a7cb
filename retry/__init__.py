"""How long to wait before trying again, for everything in the project that retries.

`Backoff` gives the delay before a retry; `Clock` is the monotonic time a
retry is due by and the wait for it, injectable so tests can simulate hours;
`due_heap.DueHeap` is the one heap of cancellable entries due at a time, under
the actors' scheduler and the socket hub's timers.
"""

from retry.backoff import JITTER, Backoff
from retry.clock import SYSTEM_CLOCK, Clock, SystemClock

__all__ = ["JITTER", "SYSTEM_CLOCK", "Backoff", "Clock", "SystemClock"]
