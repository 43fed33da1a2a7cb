"""The participant calls' own transport (connect_client/participant_http.py) against a scripted
server on loopback: errors read from the status, the header or the body and sorted as botocore's
were, botocore's standard retries on the project's backoff, no answer at all as a retryable error,
each call recorded once in the region's health, and the region's endpoint as botocore resolves it."""

from __future__ import annotations

import json
import random
import socket
from collections.abc import Iterator

import pytest

from connect_client import (
    AccessDenied,
    ChatEnded,
    ClientSettings,
    ConnectError,
    ContentTooLong,
    InvalidRequest,
    NotFound,
    Participant,
    PermanentError,
    RegionClients,
    RegionHealth,
    RetryableError,
    Throttled,
    static_session,
)
from connect_client import participant_http
from connect_client.health import Outcome
from connect_client.participant_http import ParticipantTransport, participant_endpoint
from tests.support.ports import closed_port, full_port, silent_port
from tests.support.scripted_http import Answer, ScriptedServer

__all__ = ["closed_port", "full_port", "silent_port"]  # fixtures

TOKEN = "connection-token-never-shown"
SENT = Answer(200, b'{"Id": "m-1", "AbsoluteTime": "2026-12-03T16:00:00.000Z"}')


class Waits:
    """Stands in for the wait between attempts: records each delay, waits for nothing."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


class Ticks:
    """A stopwatch that moves one second each time it is read."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


@pytest.fixture
def scripted() -> Iterator[ScriptedServer]:
    with ScriptedServer() as server:
        yield server


def transport_to(url: str, waits: Waits | None = None, max_attempts: int = 3, health: RegionHealth | None = None,
                 read_timeout: float = 5.0) -> ParticipantTransport:
    return ParticipantTransport(
        url, health or RegionHealth(), max_attempts=max_attempts, wait=waits or Waits(), rng=random.Random(7),
        read_timeout=read_timeout, connect_timeout=2.0,
    )


def error(status: int, body: object = None, headers: dict[str, str] | None = None) -> Answer:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode() if body is not None else b""
    return Answer(status, raw, headers or {})


@pytest.mark.parametrize(
    ("answer", "expected", "code", "detail"),
    [
        (error(400, {"message": "slow"}, {"x-amzn-ErrorType": "ThrottlingException:http://internal.amazon.com/"}),
         Throttled, "ThrottlingException", "slow"),
        (error(429), Throttled, "429", "Too Many Requests"),
        (error(400, {"__type": "com.amazonaws.connectparticipant#ValidationException", "Message": "no such type"}),
         InvalidRequest, "ValidationException", "no such type"),
        (error(404, {"code": "ResourceNotFoundException", "message": "gone"}), NotFound, "ResourceNotFoundException", "gone"),
        (error(409, {"__type": "ConflictException", "message": "own message"}, {"x-amzn-ErrorType": "ConflictException"}),
         InvalidRequest, "ConflictException", "own message"),
        (error(403, {"message": "expired"}, {"x-amzn-ErrorType": "AccessDeniedException"}),
         AccessDenied, "AccessDeniedException", "expired"),
        (error(500, {"__type": "InternalServerException", "message": "oops"}), RetryableError, "InternalServerException", "oops"),
        (error(503, b"<html><body>Service Unavailable</body></html>"), RetryableError, "503", "Service Unavailable"),
    ],
)
def test_an_error_answer_is_read_from_its_header_or_body_and_sorted_as_botocores_was(
    scripted: ScriptedServer, answer: Answer, expected: type[ConnectError], code: str, detail: str
) -> None:
    scripted.answer(answer)
    participant = Participant(transport_to(scripted.url, max_attempts=1))

    with pytest.raises(ConnectError) as raised:
        participant.send_event(TOKEN, client_token="typing-1")

    assert type(raised.value) is expected
    assert (raised.value.operation, raised.value.code, raised.value.detail) == ("SendEvent", code, detail)
    assert TOKEN not in str(raised.value)


def test_the_header_names_the_error_before_the_body(scripted: ScriptedServer) -> None:
    scripted.answer(error(400, {"__type": "ValidationException", "code": "ConflictException"}, {"x-amzn-ErrorType": "ThrottlingException"}))

    with pytest.raises(Throttled):
        Participant(transport_to(scripted.url, max_attempts=1)).send_event(TOKEN, client_token="t")


def test_a_403_is_chat_ended_only_for_a_new_connection(scripted: ScriptedServer) -> None:
    denied = error(403, {"message": "The chat has ended"}, {"x-amzn-ErrorType": "AccessDeniedException"})
    scripted.answer(denied, denied)
    participant = Participant(transport_to(scripted.url))

    with pytest.raises(ChatEnded):
        participant.connect("participant-token")
    with pytest.raises(AccessDenied) as denied_write:
        participant.send_message(TOKEN, "hello", client_token="m-1")

    assert not isinstance(denied_write.value, ChatEnded)
    assert len(scripted.sent) == 2  # a 403 is not retried


def test_a_send_message_refused_for_its_length_is_content_too_long(scripted: ScriptedServer) -> None:
    scripted.answer(error(400, {"message": "Content is 9000 bytes long; the limit is 8192 bytes"}, {"x-amzn-ErrorType": "ValidationException"}))

    with pytest.raises(ContentTooLong):
        Participant(transport_to(scripted.url)).send_message(TOKEN, "x" * 9000, client_token="m-1")


def test_each_call_carries_its_token_in_x_amz_bearer_and_its_fields_as_json(scripted: ScriptedServer) -> None:
    scripted.answer(SENT)

    sent = Participant(transport_to(scripted.url + "/")).send_message(TOKEN, "hello", client_token="m-1")

    assert (sent.id, sent.absolute_time) == ("m-1", "2026-12-03T16:00:00.000Z")
    [request] = scripted.sent
    assert (request.path, request.headers["x-amz-bearer"], request.headers["content-type"]) == (
        "/participant/message", TOKEN, "application/json"
    )
    assert json.loads(request.body) == {"ContentType": "text/plain", "Content": "hello", "ClientToken": "m-1"}
    assert "authorization" not in request.headers  # no signature: the token is the credential


def test_a_throttle_is_retried_after_the_throttle_backoff_and_the_call_then_succeeds(scripted: ScriptedServer) -> None:
    throttled = error(429, {"message": "Rate exceeded"}, {"x-amzn-ErrorType": "ThrottlingException"})
    scripted.answer(throttled, SENT)
    waits = Waits()
    health = RegionHealth(timer=Ticks())
    told: list[tuple[str, Outcome, float]] = []
    health.listen(lambda operation, outcome, seconds: told.append((operation, outcome, seconds)))

    sent = Participant(transport_to(scripted.url, waits, health=health)).send_message(TOKEN, "hi", client_token="m-1")

    assert sent.id == "m-1"
    assert [request.body for request in scripted.sent] == [scripted.sent[0].body] * 2  # the same client token again
    [delay] = waits.delays
    assert 0 <= delay <= participant_http.THROTTLE_FIRST
    assert told == [("SendMessage", Outcome.UP, 1.0)]  # one call, its retry inside it


def test_server_errors_are_retried_with_growing_waits_until_the_attempts_run_out(scripted: ScriptedServer) -> None:
    failing = error(500, {"message": "oops"}, {"x-amzn-ErrorType": "InternalServerException"})
    scripted.answer(*[failing] * 4)
    waits = Waits()
    health = RegionHealth()

    with pytest.raises(RetryableError) as failed:
        Participant(transport_to(scripted.url, waits, max_attempts=4, health=health)).disconnect(TOKEN, client_token="leave-1")

    assert failed.value.code == "InternalServerException" and not isinstance(failed.value, Throttled)
    assert len(scripted.sent) == 4
    assert len(waits.delays) == 3
    assert all(0 <= delay <= ceiling for delay, ceiling in zip(waits.delays, (0.05, 0.1, 0.2), strict=True))
    snapshot = health.snapshot()
    assert (snapshot.calls, snapshot.errors, snapshot.consecutive_failures) == (1, 1, 1)


def test_a_refusal_is_not_retried(scripted: ScriptedServer) -> None:
    scripted.answer(error(400, {"message": "bad"}, {"x-amzn-ErrorType": "ValidationException"}))
    waits = Waits()

    with pytest.raises(InvalidRequest):
        Participant(transport_to(scripted.url, waits)).send_event(TOKEN, client_token="t")

    assert (len(scripted.sent), waits.delays) == (1, [])


def test_a_refused_connection_is_a_retryable_error_retried_and_counted_once(closed_port: int) -> None:
    waits = Waits()
    health = RegionHealth()

    with pytest.raises(RetryableError) as refused:
        Participant(transport_to(f"http://127.0.0.1:{closed_port}", waits, health=health)).connect("participant-token-secret")

    assert refused.value.code == "EndpointConnectionError"
    assert "participant-token-secret" not in str(refused.value)
    assert len(waits.delays) == 2  # three calls in all
    snapshot = health.snapshot()
    assert (snapshot.calls, snapshot.errors) == (1, 1)


def test_an_answer_that_does_not_come_in_time_is_a_retryable_read_timeout(silent_port: int) -> None:
    transport = transport_to(f"http://127.0.0.1:{silent_port}", max_attempts=1, read_timeout=0.2)

    with pytest.raises(RetryableError) as timed_out:
        Participant(transport).send_event(TOKEN, client_token="t")

    assert timed_out.value.code == "ReadTimeoutError"


def test_a_connection_not_made_in_time_is_a_retryable_connect_timeout(full_port: int) -> None:
    transport = ParticipantTransport(f"http://127.0.0.1:{full_port}", RegionHealth(), max_attempts=1, connect_timeout=0.2)

    with pytest.raises(RetryableError) as timed_out:
        Participant(transport).send_event(TOKEN, client_token="t")

    assert timed_out.value.code == "ConnectTimeoutError"


def test_a_token_that_cannot_be_a_header_is_refused_without_showing_it(scripted: ScriptedServer) -> None:
    health = RegionHealth()

    with pytest.raises(PermanentError) as refused:
        Participant(transport_to(scripted.url, health=health)).send_event("line\nbreak-token", client_token="t")

    assert "break-token" not in str(refused.value) and not refused.value.retryable
    assert scripted.sent == [] and health.snapshot().calls == 0  # nothing sent: not the region's doing


def test_an_answer_that_is_not_the_models_is_a_permanent_error(scripted: ScriptedServer) -> None:
    scripted.answer(Answer(200, b'{"Websocket": {"Url": "wss://x"}}'))

    with pytest.raises(PermanentError) as malformed:
        Participant(transport_to(scripted.url)).connect("participant-token")

    assert malformed.value.code == "MalformedAnswer"


@pytest.mark.parametrize(
    ("region", "endpoint"),
    [
        ("eu-west-2", "https://participant.connect.eu-west-2.amazonaws.com"),
        ("cn-north-1", "https://participant.connect.cn-north-1.amazonaws.com.cn"),
        ("us-gov-west-1", "https://participant.connect.us-gov-west-1.amazonaws.com"),
    ],
)
def test_the_regions_endpoint_is_botocores_for_its_partition_and_needs_no_network(
    region: str, endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_network(*_: object, **__: object) -> None:
        raise AssertionError("the endpoint was looked up on the network")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    urls: list[str] = []

    def refused(url: str, *_: object, **__: object) -> None:
        urls.append(url)
        raise ConnectionRefusedError("not sent in this test")

    assert participant_endpoint(region, static_session()) == endpoint
    monkeypatch.setattr(participant_http, "post", refused)
    clients = RegionClients.create(region, session=static_session(), settings=ClientSettings(max_attempts=1))
    with pytest.raises(RetryableError):
        clients.participant.connect("participant-token")
    assert urls == [f"{endpoint}/participant/connection"]
