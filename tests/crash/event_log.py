"""The service's auto-disconnect timers as its event log records them, read read-only from the store's
SQLite file after the run: which timers were armed, fired (how often) and cancelled."""

from __future__ import annotations

import sqlite3
from collections import Counter
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from events import decode

STREAM_PREFIX = "conversation-"


@dataclass
class TimerHistory:
    armed: set[str] = field(default_factory=set)
    fired: Counter[str] = field(default_factory=Counter)  # timer id -> TimerFired events (1 is right)
    fired_kinds: Counter[str] = field(default_factory=Counter)  # WARNING / DISCONNECT -> TimerFired events
    cancelled: set[str] = field(default_factory=set)

    def never_settled(self) -> set[str]:
        """Armed timers that neither fired nor were cancelled."""
        return self.armed - set(self.fired) - self.cancelled


def timer_histories(store_path: Path) -> dict[str, TimerHistory]:
    histories: dict[str, TimerHistory] = {}
    with closing(sqlite3.connect(f"file:{store_path}?mode=ro", uri=True)) as db:
        rows = db.execute(
            "SELECT stream, type, data FROM events WHERE type IN ('TimerArmed', 'TimerFired', 'TimerCancelled')"
            " ORDER BY position"
        ).fetchall()
    for stream, kind, data in rows:
        history = histories.setdefault(stream.removeprefix(STREAM_PREFIX), TimerHistory())
        event = decode(data)
        if kind == "TimerArmed":
            history.armed.add(event.timer_id)
        elif kind == "TimerFired":
            history.fired[event.timer_id] += 1
            history.fired_kinds[event.rule.kind] += 1
        else:
            history.cancelled.add(event.timer_id)
    return histories
