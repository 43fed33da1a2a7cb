"""`serve`'s `auto_failover`: off when absent, and a wrong one refused naming the field."""

from __future__ import annotations

import json
from typing import Any

import pytest

from service.auto_failover import AutoFailover
from service.serve_config import InvalidServeConfig, load_serve_config


def config(**fields: Any) -> bytes:
    return json.dumps({"data_dir": "/var/lib/connect-worker", **fields}).encode()


def test_absent_is_off_and_present_is_on_as_given() -> None:
    assert load_serve_config(config()).auto_failover is None
    on = load_serve_config(config(auto_failover={"after_seconds": 120, "mode": "move"})).auto_failover
    assert on == AutoFailover(after_seconds=120, mode="move")
    assert load_serve_config(config(auto_failover={"after_seconds": 0.5, "mode": "drain"})).auto_failover == AutoFailover(0.5, "drain")


@pytest.mark.parametrize(
    ("auto_failover", "message"),
    [
        ({"after_seconds": 0, "mode": "move"}, "Expected `float` > 0.0 - at `$.auto_failover.after_seconds`"),
        ({"after_seconds": -5, "mode": "move"}, "Expected `float` > 0.0 - at `$.auto_failover.after_seconds`"),
        ({"after_seconds": "2m", "mode": "move"}, "Expected `float`, got `str` - at `$.auto_failover.after_seconds`"),
        ({"after_seconds": 120, "mode": "jump"}, "Invalid enum value 'jump' - at `$.auto_failover.mode`"),
        ({"after_seconds": 120}, "Object missing required field `mode` - at `$.auto_failover`"),
        ({"mode": "move"}, "Object missing required field `after_seconds` - at `$.auto_failover`"),
        ({"after_seconds": 120, "mode": "move", "min_failures": 2}, "Object contains unknown field `min_failures` - at `$.auto_failover`"),
    ],
)
def test_a_wrong_one_is_refused_naming_the_field(auto_failover: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidServeConfig) as refused:
        load_serve_config(config(auto_failover=auto_failover))

    assert str(refused.value) == message
