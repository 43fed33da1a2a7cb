"""Backoff delays: exponential to a cap, full jitter, seedable, any attempt number."""

from __future__ import annotations

import random

import pytest

from retry import JITTER, Backoff


class Highest(random.Random):
    """A generator that always draws the top of the interval, to read the ceiling off `delay`."""

    def random(self) -> float:
        return 1.0


def test_the_longest_wait_doubles_to_the_cap() -> None:
    backoff = Backoff(first=0.5, factor=2, cap=5, rng=Highest())

    assert [backoff.delay(attempt) for attempt in range(1, 8)] == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0, 5.0]


def test_full_jitter_spreads_the_delays_over_the_whole_interval() -> None:
    backoff = Backoff(first=1.0, cap=30.0, rng=random.Random(3))

    delays = [backoff.delay(6) for _ in range(1_000)]

    assert all(0 <= delay <= 30.0 for delay in delays)
    assert min(delays) < 3.0 and max(delays) > 27.0  # the bottom and top tenths are both drawn


def test_the_same_seed_gives_the_same_delays() -> None:
    first = Backoff(first=2.0, rng=random.Random(9))
    second = Backoff(first=2.0, rng=random.Random(9))

    assert [first.delay(n) for n in range(1, 9)] == [second.delay(n) for n in range(1, 9)]


@pytest.mark.parametrize("attempt", [1_024, 1_025, 10_000, 10**9])
def test_a_retry_that_never_gives_up_stays_within_the_cap(attempt: int) -> None:
    assert Backoff(first=0.5, cap=60.0, rng=Highest()).delay(attempt) == 60.0
    assert 0 <= Backoff(first=0.5, cap=60.0).delay(attempt) <= 60.0


def test_a_first_attempt_below_one_or_a_first_wait_beyond_the_cap_is_a_mistake() -> None:
    with pytest.raises(ValueError, match="attempt"):
        Backoff(first=1.0).delay(0)
    with pytest.raises(ValueError, match="first"):
        Backoff(first=60.0, cap=30.0)


def test_backoffs_without_a_seeded_rng_share_the_process_one_and_a_seeded_one_is_kept() -> None:
    # A Random is 2.9 KB, seeded from os.urandom: one per conversation and per socket was 11.6 KB a chat.
    assert Backoff(first=1.0).rng is Backoff(first=2.0, cap=60.0).rng is JITTER
    seeded = random.Random(7)
    assert Backoff(first=1.0, rng=seeded).rng is seeded
