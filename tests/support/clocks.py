"""A clock that stands still until the test moves it: `clock.now += seconds`."""

from __future__ import annotations


class ManualClock:
    """Reads `now`, which only the test changes; give it wherever a clock callable is taken."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now
