"""The one loop behind the service's background work: passes again and again, a failing pass logged
and followed by the next, stopped between passes."""

from __future__ import annotations

import threading

import pytest

from service.periodic import Periodic


def test_a_pass_that_raises_is_logged_and_the_next_one_runs(caplog: pytest.LogCaptureFixture) -> None:
    passes: list[int] = []
    third = threading.Event()

    def run_pass() -> None:
        passes.append(len(passes))
        if len(passes) == 1:
            raise RuntimeError("the first pass fails")
        if len(passes) == 3:
            third.set()

    loop = Periodic("test loop", run_pass, interval=0.001).start()
    assert third.wait(10)
    loop.stop()
    count = len(passes)
    assert "test loop: a pass failed; trying again" in caplog.text
    assert len(passes) == count  # stopped: no pass after stop returned


def test_without_at_once_nothing_runs_before_the_first_interval() -> None:
    ran = threading.Event()
    loop = Periodic("late loop", ran.set, interval=60, at_once=False).start()
    loop.stop()
    assert not ran.is_set()
