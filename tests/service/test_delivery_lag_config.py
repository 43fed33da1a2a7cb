"""`serve`'s `delivery_lag_limit_seconds`: 10 when absent, as given when present, and more than 0; the
Retry-After it leads to."""

from __future__ import annotations

import json
from typing import Any

import pytest

from delivery.backpressure import Backpressure
from service.serve_config import InvalidServeConfig, load_serve_config


def config(**fields: Any) -> bytes:
    return json.dumps({"data_dir": "/var/lib/connect-worker", **fields}).encode()


def test_absent_is_ten_seconds_and_present_is_as_given() -> None:
    assert load_serve_config(config()).delivery_lag_limit_seconds == 10.0
    assert load_serve_config(config(delivery_lag_limit_seconds=2.5)).delivery_lag_limit_seconds == 2.5


@pytest.mark.parametrize("limit", [0, -1])
def test_a_limit_of_zero_or_less_is_refused_naming_the_field(limit: float) -> None:
    with pytest.raises(InvalidServeConfig) as refused:
        load_serve_config(config(delivery_lag_limit_seconds=limit))
    assert str(refused.value) == "Expected `float` > 0.0 - at `$.delivery_lag_limit_seconds`"


@pytest.mark.parametrize(
    ("lag", "retry_after"), [(0.0, None), (10.0, None), (10.01, 1), (12.2, 3), (45.0, 35), (600.0, 60)]
)
def test_retry_after_is_how_far_past_the_limit_rounded_up_from_1_to_60(lag: float, retry_after: int | None) -> None:
    assert Backpressure(lambda client_id: lag, limit_seconds=10.0).retry_after("cl-1") == retry_after
