"""When a chat socket sends `aws/heartbeat`, and when it gives the socket up
for dead: a pure object fed with the time, so the rule is tested without
waiting and a hub serving many sockets can keep one per socket.

    >>> beats = Heartbeats(interval=10.0, next_tick=now + 10.0)
    >>> beats.check(now + 10.0)    # Beat.SEND: send one, expect an answer by the next tick
    >>> beats.answered()           # the server echoed it
    >>> beats.check(now + 20.0)    # Beat.SEND again; unanswered by now + 30.0 means Beat.DEAD
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Beat(enum.Enum):
    WAIT = "wait"
    SEND = "send a heartbeat"
    DEAD = "the last heartbeat was not answered"


@dataclass
class Heartbeats:
    """One heartbeat every `interval` seconds, each to be answered before the
    next tick (amazon-connect-chatjs's rule). Times are monotonic seconds."""

    interval: float
    next_tick: float
    unanswered: bool = False

    @classmethod
    def starting(cls, now: float, interval: float) -> Heartbeats:
        return cls(interval=interval, next_tick=now + interval)

    def check(self, now: float) -> Beat:
        """What to do at `now`; SEND also starts waiting for the answer."""
        if now < self.next_tick:
            return Beat.WAIT
        if self.unanswered:
            return Beat.DEAD
        self.unanswered = True
        self.next_tick = now + self.interval
        return Beat.SEND

    def answered(self) -> None:
        self.unanswered = False

    def seconds_left(self, now: float) -> float:
        return max(0.0, self.next_tick - now)
