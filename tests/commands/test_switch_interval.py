"""The service's GIL switch interval (commands/switch_interval.py): set below CPython's 5 ms default."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from commands.switch_interval import SWITCH_INTERVAL, switch_sooner


@pytest.fixture
def interval_as_it_was() -> Iterator[None]:
    """The test process's switch interval as it found it."""
    before = sys.getswitchinterval()
    yield
    sys.setswitchinterval(before)


def test_the_service_hands_the_gil_over_sooner_than_cpython_by_default(interval_as_it_was: None) -> None:
    sys.setswitchinterval(0.005)  # CPython's default
    switch_sooner()
    assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL)
    assert SWITCH_INTERVAL < 0.005
