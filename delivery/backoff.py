"""How long to wait before retrying a webhook: exponential, capped, with full jitter."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class Backoff:
    """Delay before retry `attempt` (1 for the first): uniform in [0, min(cap, initial * factor ** (attempt - 1))].

    Full jitter spreads the retries of many conversations whose bot went down
    at the same moment. `jitter` (a number in [0, 1)) is injectable so tests can pin it.

        >>> Backoff(initial=1, factor=2, cap=60, jitter=lambda: 1.0).delay(3)
        4.0
    """

    initial: float = 0.5
    factor: float = 2.0
    cap: float = 60.0
    jitter: Callable[[], float] = random.random

    def delay(self, attempt: int) -> float:
        if attempt < 1:
            raise ValueError(f"attempt must be at least 1, not {attempt}")
        ceiling = min(self.cap, self.initial * self.factor ** (attempt - 1))
        return ceiling * self.jitter()
