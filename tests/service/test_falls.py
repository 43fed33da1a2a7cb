"""The wait before a fallen conversation actor is started again (service/falls.py): it grows with the
conversation's falls in a row, each conversation on its own, and a fall long after the last is a
first one again."""

from __future__ import annotations

import random

from retry import Backoff
from service.falls import RESET_SECONDS, Falls
from tests.support.clocks import ManualClock


class Longest(random.Random):
    """Draws the top of every jitter interval, so that a wait shows its ceiling."""

    def uniform(self, a: float, b: float) -> float:
        return b


def falls(clock: ManualClock) -> Falls:
    return Falls(Backoff(first=0.5, cap=30.0, rng=Longest()), clock=clock)


def test_waits_grow_with_falls_in_a_row_each_conversation_on_its_own() -> None:
    clock = ManualClock()
    counted = falls(clock)

    waits = [counted.delay("a") for _ in range(8)]

    assert waits == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    assert counted.delay("b") == 0.5


def test_a_fall_long_after_the_last_is_a_first_one_again() -> None:
    clock = ManualClock()
    counted = falls(clock)
    counted.delay("a")
    counted.delay("a")
    clock.now += RESET_SECONDS / 2
    assert counted.delay("a") == 2.0

    clock.now += RESET_SECONDS + 1

    assert counted.delay("a") == 0.5
