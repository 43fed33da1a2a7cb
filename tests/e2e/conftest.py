"""A stage per test module: the local Amazon Connect and the service as child processes, the bot's
webhook and API client (tests/e2e/stage.py); everything is ended when the module is done."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest

from tests.e2e.stage import Stage, staged


@pytest.fixture(scope="module")
def start_stage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[dict[str, tuple[int, int]]], Stage]]:
    """`start_stage({worker name: (WARNING seconds, DISCONNECT seconds)})` starts a stage with those workers."""
    with ExitStack() as stack:

        def start(workers: dict[str, tuple[int, int]]) -> Stage:
            return stack.enter_context(staged(tmp_path_factory.mktemp("e2e"), workers))

        yield start
