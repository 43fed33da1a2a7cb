"""Botocore's exceptions sorted into ours."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ParamValidationError, ReadTimeoutError

from connect_client import (
    AccessDenied,
    ChatEnded,
    ConnectError,
    ContentTooLong,
    InvalidRequest,
    NotFound,
    RetryableError,
    Throttled,
)
from connect_client.errors import translated_errors


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


@pytest.mark.parametrize(
    "message",
    [
        "Value at 'content' failed to satisfy constraint: Member must have length less than or equal to 16384",
        "Content is 20000 bytes long; the limit is 16384 bytes",
        "Message size exceeds the channel's limit",
    ],
)
def test_send_message_refused_for_its_length_is_content_too_long(message: str) -> None:
    error = ClientError({"Error": {"Code": "ValidationException", "Message": message}, "ResponseMetadata": {"HTTPStatusCode": 400}}, "SendMessage")
    with pytest.raises(ContentTooLong) as raised, translated_errors("SendMessage"):
        raise error
    assert raised.value.detail == message


def test_other_validation_refusals_stay_invalid_requests() -> None:
    error = ClientError(
        {"Error": {"Code": "ValidationException", "Message": "ContentType text/x-card is not supported"}, "ResponseMetadata": {"HTTPStatusCode": 400}},
        "SendMessage",
    )
    with pytest.raises(InvalidRequest) as raised, translated_errors("SendMessage"):
        raise error
    assert not isinstance(raised.value, ContentTooLong)
