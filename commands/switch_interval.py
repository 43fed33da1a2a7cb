"""How soon a thread that has waited for the GIL gets it: the long-running service's switch interval.

A thread woken by I/O (an actor's append settled by the store's writer, a pool thread given a bot's
message, a webhook sender given its next message) must take the GIL before it runs a line. If another
thread is running Python at that moment (the API's event loop parsing a request, the socket hub, an
actor encoding a call), CPython lets the waiter ask for the GIL only after `sys.getswitchinterval()`,
5 ms by default, unless the holder lets go sooner for I/O of its own. Every message crosses three to
five such hand-offs on its way through the service, so a 5 ms wait now and then is much of what a
relay's p99 has above the bare clients' (bench/README.md, "Relay p99: the GIL's switch interval, and
appends without the writer's hand-offs").

`SWITCH_INTERVAL` bounds that wait at half a millisecond. The price is a forced switch at most every
half millisecond while two threads run Python at once (each a few microseconds of kernel time); when only one
thread wants the GIL, nothing changes. Not in `running_service`: the tests start services inside the
test process, whose interpreter this must not change.
"""

from __future__ import annotations

import sys

SWITCH_INTERVAL = 0.0005  # seconds; CPython's default is 0.005


def switch_sooner() -> None:
    """Set this process's GIL switch interval to `SWITCH_INTERVAL` (once, at the service's start)."""
    sys.setswitchinterval(SWITCH_INTERVAL)
