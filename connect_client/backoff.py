"""Exponential backoff with jitter, as amazon-connect-chatjs does it.

    >>> delays = Backoff(first=1.0, factor=2.0, cap=30.0, jitter=0.3, rng=random.Random(7))
    >>> [round(delays.delay(attempt)) for attempt in range(1, 7)]   # about 1, 2, 4, 8, 16, 30
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Backoff:
    """The wait before retry number `attempt` (1 for the first retry):
    `first * factor ** (attempt - 1)`, at most `cap`, then moved by a random
    share of up to ±`jitter` so that many clients dropped at once do not come
    back at once. `rng` is seedable for tests."""

    first: float
    factor: float = 2.0
    cap: float = 30.0
    jitter: float = 0.3
    rng: random.Random = field(default_factory=random.Random, compare=False)

    def delay(self, attempt: int) -> float:
        # The exponent is bounded: a long outage must not overflow the float.
        base = min(self.cap, self.first * self.factor ** min(max(0, attempt - 1), 64))
        return base * (1 + self.rng.uniform(-self.jitter, self.jitter))
