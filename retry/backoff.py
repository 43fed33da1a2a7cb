"""Exponential backoff, capped, with full jitter.

    >>> delays = Backoff(first=1.0, factor=2.0, cap=30.0, rng=random.Random(7))
    >>> [delays.delay(attempt) for attempt in range(1, 7)]   # each uniform in [0, 1], [0, 2], [0, 4] ... [0, 30]
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

# The process's one source of jitter, for every `Backoff` and draw not given a seeded one of its own
# (a test's). A `random.Random` is 2.9 KB and seeds itself from os.urandom (about 80 us): made for
# each conversation and each of its sockets, four of them were 11.6 KB of every live chat, and
# of every ended one until a full garbage collection (bench/README.md, "The soak's memory").
JITTER = random.Random()


@dataclass(frozen=True)
class Backoff:
    """The wait before retry number `attempt` (1 for the first): uniform in
    `[0, min(cap, first * factor ** (attempt - 1))]`.

    Full jitter: many clients that failed at the same moment (a bot's webhook
    down for all its conversations, a region's sockets dropped at once) spread
    their retries over the whole interval instead of coming back in lockstep.
    `rng` is seedable for tests. Any attempt number works: retries that never
    give up reach attempt counts where `factor ** attempt` would overflow a float.
    """

    first: float
    factor: float = 2.0
    cap: float = 30.0
    rng: random.Random = field(default=JITTER, compare=False)

    def __post_init__(self) -> None:
        if not (0 < self.first <= self.cap) or self.factor < 1:
            raise ValueError(f"need 0 < first <= cap and factor >= 1, not first={self.first}, "
                             f"cap={self.cap}, factor={self.factor}")

    def ceiling(self, attempt: int) -> float:
        """The longest wait before retry `attempt`."""
        if attempt < 1:
            raise ValueError(f"attempt must be at least 1, not {attempt}")
        if self.factor == 1:
            return self.first
        # Compare exponents, not powers: the power overflows long before the attempt count does.
        doublings_to_cap = math.log(self.cap / self.first, self.factor)
        if attempt - 1 >= doublings_to_cap:
            return self.cap
        return self.first * self.factor ** (attempt - 1)

    def delay(self, attempt: int) -> float:
        return self.rng.uniform(0, self.ceiling(attempt))
