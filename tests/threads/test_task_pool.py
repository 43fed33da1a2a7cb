"""The elastic pool's threads: what happens when the process cannot start one."""

from __future__ import annotations

import threading

import pytest

from threads.task_pool import TaskPool

WAIT = 10.0


def test_a_thread_that_cannot_start_loses_no_task_and_leaves_the_pool_able_to_grow(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    pool = TaskPool(4, name="starved")
    start = threading.Thread.start
    refused: list[str] = []

    def start_unless_first(thread: threading.Thread) -> None:
        if thread.name.startswith(pool.name) and not refused:  # the process's limit, once
            refused.append(thread.name)
            raise RuntimeError("can't start new thread")
        start(thread)

    monkeypatch.setattr(threading.Thread, "start", start_unless_first)
    ran = {"first": threading.Event(), "second": threading.Event()}

    pool.submit(lambda: ran["first"].set() or False)  # its thread cannot start: the task waits
    assert refused and pool.waiting() == 1
    pool.submit(lambda: ran["second"].set() or False)  # the next submit makes a thread

    assert ran["first"].wait(WAIT) and ran["second"].wait(WAIT)
    assert "could not be started" in caplog.text
