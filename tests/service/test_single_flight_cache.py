"""The cache behind the queue figures: a value serves its window, then is fetched again; callers that
miss together share one fetch, its value or its exception."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

import pytest

from service.single_flight_cache import SingleFlightCache, is_fresh
from tests.service.harness import wait_for


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_value_serves_its_window_and_is_fetched_again_after_it() -> None:
    clock, fetched = Clock(), []
    cache: SingleFlightCache[str, int] = SingleFlightCache(5.0, clock)

    def fetch() -> int:
        fetched.append(clock.now)
        return len(fetched)

    assert cache.get("q", fetch).value == 1
    clock.now += 4.999
    kept = cache.get("q", fetch)
    assert (kept.value, kept.at) == (1, 1000.0)
    clock.now = 1005.0
    assert cache.get("q", fetch).value == 2
    assert fetched == [1000.0, 1005.0]


def test_keys_are_kept_apart() -> None:
    cache: SingleFlightCache[str, str] = SingleFlightCache(5.0, Clock())
    assert cache.get("a", lambda: "A").value == "A"
    assert cache.get("b", lambda: "B").value == "B"
    assert cache.get("a", lambda: "not fetched").value == "A"


@pytest.mark.parametrize(
    ("at", "now", "fresh"),
    [(100.0, 100.0, True), (100.0, 104.9, True), (100.0, 105.0, False), (100.0, 99.0, False)],
    ids=["just fetched", "inside the window", "at its end", "the clock went back"],
)
def test_freshness(at: float, now: float, fresh: bool) -> None:
    assert is_fresh(at, now, 5.0) is fresh


class CountingClock(Clock):
    """Counts its readings: every caller reads it once to judge freshness, before it joins a fetch."""

    def __init__(self) -> None:
        super().__init__()
        self.readings = 0

    def __call__(self) -> float:
        self.readings += 1
        return self.now


def ask_together(callers: int, fetch: Callable[[], int]) -> tuple[list[Future[int]], list[str]]:
    """`callers` threads ask the cache for one key at once: their answers, and the threads that fetched.
    The fetch is held until every caller has read the clock (so has started the fetch or joined it)."""
    clock = CountingClock()
    cache: SingleFlightCache[str, int] = SingleFlightCache(5.0, clock)
    release = threading.Event()
    fetches: list[str] = []

    def blocking_fetch() -> int:
        fetches.append(threading.current_thread().name)
        assert release.wait(10), "the test never released the fetch"
        return fetch()

    pool = ThreadPoolExecutor(callers)
    answers = [pool.submit(lambda: cache.get("q", blocking_fetch).value) for _ in range(callers)]
    wait_for(lambda: clock.readings >= callers, "every caller to ask")
    release.set()
    pool.shutdown(wait=True)
    return answers, fetches


def test_callers_that_miss_together_share_one_fetch() -> None:
    answers, fetches = ask_together(8, lambda: 42)
    assert [answer.result() for answer in answers] == [42] * 8
    assert len(fetches) == 1


def test_a_fetch_that_raises_fails_every_caller_waiting_on_it() -> None:
    def failing() -> int:
        raise RuntimeError("upstream broke")

    answers, fetches = ask_together(4, failing)
    for answer in answers:
        with pytest.raises(RuntimeError, match="upstream broke"):
            answer.result()
    assert len(fetches) == 1


def test_a_fetch_that_raised_is_not_kept() -> None:
    cache: SingleFlightCache[str, int] = SingleFlightCache(5.0, Clock())

    def failing() -> int:
        raise RuntimeError("upstream broke")

    with pytest.raises(RuntimeError):
        cache.get("q", failing)
    assert cache.get("q", lambda: 7).value == 7
