"""Fuzzing the worker file loader: whatever the bytes, it returns a config or raises InvalidWorkerConfig
whose every problem names a JSON path or a line and column, never another exception.

The sources: arbitrary bytes, arbitrary JSON, nesting of any depth, and mutations of the seed's example
(made strict JSON so that a mutation is one mistake, not the example's own). Derandomized, so CI runs
the same cases.
"""

from __future__ import annotations

import json
import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events.worker_config import InvalidWorkerConfig, WorkerConfig, parse_worker_config
from tests.workers.test_worker_config import SEED_EXAMPLE

PLACE = re.compile(r"^(\$([.\[]|: )|line \d+, column \d+: )")

STRICT_SEED = json.loads(
    SEED_EXAMPLE.replace(b"//Another valid botnet action", b"").replace(b"    ],\n  },", b"    ]\n  },")
)
del STRICT_SEED["Data"]["SlashCommands"]["/welcome"]["actions"][1]  # the seed's empty action

fuzz = settings(max_examples=300, derandomize=True, database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)


def loads_or_names_every_problem(raw: bytes) -> WorkerConfig | None:
    """The property: a config, or InvalidWorkerConfig whose every problem says where."""
    try:
        return parse_worker_config(raw)
    except InvalidWorkerConfig as error:
        assert error.problems, "InvalidWorkerConfig without a problem"
        for problem in error.problems:
            assert PLACE.match(problem), f"{problem!r} names no JSON path nor line and column"
        return None


def test_the_strict_seed_example_is_a_valid_worker() -> None:
    assert loads_or_names_every_problem(json.dumps(STRICT_SEED).encode()) is not None


@fuzz
@given(st.binary(max_size=2_000))
def test_arbitrary_bytes(raw: bytes) -> None:
    loads_or_names_every_problem(raw)


@fuzz
@given(json_values)
def test_arbitrary_json(document: Any) -> None:
    loads_or_names_every_problem(json.dumps(document).encode())


@fuzz
@given(st.data())
def test_the_seed_example_with_one_value_changed_or_removed(data: st.DataObject) -> None:
    document = json.loads(json.dumps(STRICT_SEED))
    path = data.draw(st.sampled_from(_paths(document)))
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    change = data.draw(st.sampled_from(["replace", "remove", "add beside"]))
    if change == "replace":
        parent[path[-1]] = data.draw(json_values)
    elif change == "remove" or isinstance(parent, list):
        del parent[path[-1]]
    else:
        parent[data.draw(st.text(max_size=12))] = data.draw(json_values)
    loads_or_names_every_problem(json.dumps(document).encode())


@fuzz
@given(st.data())
def test_the_seed_example_with_bytes_changed(data: st.DataObject) -> None:
    raw = bytearray(json.dumps(STRICT_SEED, indent=2).encode())
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(raw) - 1))
        change = data.draw(st.sampled_from(["replace", "remove", "insert"]))
        byte = data.draw(st.sampled_from(b'{}[]",:\\ 0a\n\xff/'))
        if change == "replace":
            raw[at] = byte
        elif change == "remove":
            del raw[at]
        else:
            raw.insert(at, byte)
    loads_or_names_every_problem(bytes(raw))


@fuzz
@given(st.integers(0, 20_000), st.sampled_from([b"[", b'{"Data":', b'{"Data": {"SlashCommands": {"/a": {"actions": [']))
def test_nesting_of_any_depth(depth: int, opener: bytes) -> None:
    loads_or_names_every_problem(opener + b"[" * depth + b"]" * depth)


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every place in a JSON document, as the keys and indexes that lead to it."""
    children: list[tuple[Any, Any]] = []
    if isinstance(value, dict):
        children = list(value.items())
    elif isinstance(value, list):
        children = list(enumerate(value))
    paths = []
    for key, child in children:
        paths.append((*prefix, key))
        paths += _paths(child, (*prefix, key))
    return paths
