"""A long operation's progress: a bar at a terminal, an INFO line every few seconds elsewhere."""

from __future__ import annotations

import io
import logging

import pytest

from logs import Progress

log = logging.getLogger("service.test_progress")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def progress_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == log.name]


def test_away_from_a_terminal_a_line_every_few_seconds(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    clock = Clock()
    with Progress("recovering conversations", 1000, log=log, unit="conversations", stream=io.StringIO(),
                  every_seconds=5, clock=clock) as progress:
        for step in range(1000):
            clock.now += 1 / 32  # 31.25 s in all
            progress.advance()
    lines = progress_lines(caplog)
    assert len(lines) == 6
    assert lines[0] == "recovering conversations: 160 of 1000 conversations (16%)"
    assert lines[-1] == "recovering conversations: 960 of 1000 conversations (96%)"


def test_a_short_operation_logs_no_line(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    clock = Clock()
    with Progress("replaying c-1", 3, log=log, stream=io.StringIO(), clock=clock) as progress:
        for _ in range(3):
            progress.advance()
    assert progress_lines(caplog) == []


def test_at_a_terminal_a_bar_and_no_line(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    terminal, clock = Terminal(), Clock()
    with Progress("starting recovered conversations", 5, log=log, unit="conversations", stream=terminal,
                  bar_delay=0, bar_refresh=0, clock=clock) as progress:
        for _ in range(3):
            clock.now += 10
            progress.advance()
        assert "starting recovered conversations" in terminal.getvalue()
        assert "3/5" in terminal.getvalue()
    assert progress_lines(caplog) == []


def test_not_shown_it_shows_nothing(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    terminal, clock = Terminal(), Clock()
    with Progress("replaying c-1", 5, log=log, stream=terminal, bar_delay=0, clock=clock, shown=False) as progress:
        clock.now += 60
        progress.advance()
    assert terminal.getvalue() == "" and progress_lines(caplog) == []
