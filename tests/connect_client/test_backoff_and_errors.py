"""Backoff delays, and botocore's exceptions sorted into ours."""

from __future__ import annotations

import random

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ParamValidationError, ReadTimeoutError

from connect_client import AccessDenied, Backoff, ChatEnded, ConnectError, InvalidRequest, NotFound, RetryableError, Throttled
from connect_client.errors import translated_errors


def test_delays_double_to_the_cap_within_the_jitter() -> None:
    backoff = Backoff(first=1.0, cap=30.0, jitter=0.3, rng=random.Random(3))

    delays = [backoff.delay(attempt) for attempt in range(1, 9)]

    for delay, base in zip(delays, [1, 2, 4, 8, 16, 30, 30, 30], strict=True):
        assert base * 0.7 <= delay <= base * 1.3
    assert len(set(delays)) == len(delays)


def test_the_same_seed_gives_the_same_delays_and_a_long_outage_stays_at_the_cap() -> None:
    first = Backoff(first=2.0, rng=random.Random(9))
    second = Backoff(first=2.0, rng=random.Random(9))

    assert [first.delay(n) for n in range(1, 6)] == [second.delay(n) for n in range(1, 6)]
    assert first.delay(10_000) <= 30.0 * 1.3


def client_error(code: str, status: int) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "says Connect"}, "ResponseMetadata": {"HTTPStatusCode": status}}, "Op")


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (client_error("ThrottlingException", 429), Throttled),
        (client_error("LimitExceededException", 429), Throttled),
        (client_error("InternalServerException", 500), RetryableError),
        (client_error("ServiceUnavailable", 503), RetryableError),
        (client_error("AccessDeniedException", 403), AccessDenied),
        (client_error("ResourceNotFoundException", 404), NotFound),
        (client_error("ContactNotFoundException", 410), NotFound),
        (client_error("ValidationException", 400), InvalidRequest),
        (client_error("ConflictException", 409), InvalidRequest),
        (EndpointConnectionError(endpoint_url="http://127.0.0.1:1"), RetryableError),
        (ReadTimeoutError(endpoint_url="http://127.0.0.1:1"), RetryableError),
        (ParamValidationError(report="Content is too short"), InvalidRequest),
    ],
)
def test_botocore_errors_become_ours(error: Exception, expected: type[ConnectError]) -> None:
    with pytest.raises(ConnectError) as raised, translated_errors("SendMessage"):
        raise error

    assert type(raised.value) is expected
    assert raised.value.retryable == issubclass(expected, RetryableError)
    assert raised.value.operation == "SendMessage"


def test_a_403_becomes_the_class_the_operation_asks_for() -> None:
    with pytest.raises(ChatEnded), translated_errors("CreateParticipantConnection", access_denied=ChatEnded):
        raise client_error("AccessDeniedException", 403)
