"""A region's health, counted from the calls its real boto3 clients make to the local Amazon Connect
(faults injected there), on the tests' clock and stopwatch."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
from botocore.exceptions import ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError

from connect_client import (
    ChatEnded,
    ClientSettings,
    CredentialsRefused,
    InvalidRequest,
    NotFound,
    RegionClients,
    RegionHealth,
    RetryableError,
    Throttled,
    static_session,
)
from connect_client.contacts import Contacts
from connect_client.health import Outcome, outcome_of_answer, outcome_of_exception
from connect_client.participant import Participant
from connect_local import LocalConnect
from tests.connect_client.conftest import ONE_ATTEMPT, chat_start


class Clock:
    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Stopwatch:
    """Each call of a client reads it twice (started, finished): the n-th call takes `lengths[n]`."""

    def __init__(self, lengths: list[float]) -> None:
        self._readings: Iterator[float] = iter(
            value for index, length in enumerate(lengths) for value in (index * 100.0, index * 100.0 + length)
        )

    def __call__(self) -> float:
        return next(self._readings)


def watched(server: LocalConnect, health: RegionHealth, settings: ClientSettings = ONE_ATTEMPT) -> RegionClients:
    return RegionClients.create(
        server.ready_info()["region"], endpoint_url=server.endpoint_url, session=static_session(),
        settings=settings, health=health,
    )


def ask_flow(server: LocalConnect, region: RegionClients) -> None:
    info = server.ready_info()
    region.contacts.describe_contact_flow(info["instance_id"], info["contact_flow_id"])


def test_each_call_of_both_clients_is_counted_and_an_answer_is_a_success(server: LocalConnect) -> None:
    clock = Clock()
    region = watched(server, RegionHealth(clock=clock))

    started = region.contacts.start_chat(chat_start(server))          # connect
    region.participant.connect(started.participant_token)             # connectparticipant

    health = region.health.snapshot()
    assert (health.calls, health.errors, health.throttles, health.window_calls) == (2, 0, 0, 2)
    assert (health.consecutive_failures, health.failing_since, health.last_failure_at) == (0, None, None)
    assert health.last_success_at == clock.now
    assert health.error_rate == health.throttle_rate == 0.0


def test_a_region_outage_is_a_run_of_errors_failing_since_the_first(server: LocalConnect) -> None:
    clock = Clock(1_000.0)
    region = watched(server, RegionHealth(clock=clock))
    ask_flow(server, region)
    server.set_outage("us-east-1")

    for now in (1_010.0, 1_020.0, 1_030.0):
        clock.now = now
        with pytest.raises(RetryableError):
            ask_flow(server, region)

    health = region.health.snapshot()
    assert (health.calls, health.errors, health.throttles, health.consecutive_failures) == (4, 3, 0, 3)
    assert (health.failing_since, health.last_failure_at, health.last_success_at) == (1_010.0, 1_030.0, 1_000.0)
    assert health.error_rate == 0.75


def test_an_answer_from_the_region_ends_the_run_of_failures(server: LocalConnect) -> None:
    clock = Clock(1_000.0)
    region = watched(server, RegionHealth(clock=clock))
    server.set_outage("us-east-1")
    for _ in range(2):
        with pytest.raises(RetryableError):
            ask_flow(server, region)
    server.set_outage("us-east-1", down=False)
    clock.now = 1_050.0

    ask_flow(server, region)

    health = region.health.snapshot()
    assert (health.consecutive_failures, health.failing_since, health.errors) == (0, None, 2)
    assert (health.last_success_at, health.last_failure_at) == (1_050.0, 1_000.0)


def test_a_refusal_shows_the_region_up(server: LocalConnect) -> None:
    region = watched(server, RegionHealth())
    server.set_outage("us-east-1")
    with pytest.raises(RetryableError):
        ask_flow(server, region)
    server.set_outage("us-east-1", down=False)

    with pytest.raises(NotFound):
        region.contacts.describe_contact_flow(server.ready_info()["instance_id"], "no-such-flow")   # 404
    with pytest.raises(ChatEnded):
        region.participant.connect("not-a-participant-token")                                      # 403
    server.refuse_next(1, "DescribeContactFlow", "ValidationException", "refused on purpose")
    with pytest.raises(InvalidRequest):
        ask_flow(server, region)                                                                   # 400

    health = region.health.snapshot()
    assert (health.calls, health.errors, health.throttles, health.consecutive_failures) == (4, 1, 0, 0)
    assert health.failing_since is None


def test_throttles_are_counted_apart_from_errors_and_belong_to_the_run(server: LocalConnect) -> None:
    clock = Clock(1_000.0)
    region = watched(server, RegionHealth(clock=clock))
    server.throttle_next(2)
    for _ in range(2):
        with pytest.raises(Throttled):
            ask_flow(server, region)
    server.set_outage("us-east-1")
    clock.now = 1_001.0
    with pytest.raises(RetryableError):
        ask_flow(server, region)

    health = region.health.snapshot()
    assert (health.calls, health.errors, health.throttles, health.consecutive_failures) == (3, 1, 2, 3)
    assert health.failing_since == 1_000.0
    assert (health.throttle_rate, health.error_rate) == (2 / 3, 1 / 3)


def test_no_answer_at_all_is_an_error() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    clock = Clock(2_000.0)
    region = RegionClients.create(
        "us-east-1", endpoint_url=f"http://127.0.0.1:{port}", session=static_session(), settings=ONE_ATTEMPT,
        health=RegionHealth(clock=clock),
    )

    with pytest.raises(RetryableError):
        region.participant.connect("a-participant-token")

    health = region.health.snapshot()
    assert (health.calls, health.errors, health.consecutive_failures, health.failing_since) == (1, 1, 1, 2_000.0)


def test_latencies_and_rates_are_over_the_last_calls_of_the_window(server: LocalConnect) -> None:
    lengths = [0.5, 0.5] + [n / 1000 for n in range(1, 11)]   # two slow failures, then 1 ms .. 10 ms
    region = watched(server, RegionHealth(timer=Stopwatch(lengths), window=10))
    server.set_outage("us-east-1")
    for _ in range(2):
        with pytest.raises(RetryableError):
            ask_flow(server, region)
    server.set_outage("us-east-1", down=False)
    for _ in range(10):
        ask_flow(server, region)

    health = region.health.snapshot()
    assert (health.calls, health.errors, health.window_calls) == (12, 2, 10)
    assert health.error_rate == 0.0
    assert (health.latency_p50_ms, health.latency_p99_ms) == (5.0, 10.0)


def test_before_any_call_there_are_no_figures() -> None:
    health = RegionHealth().snapshot()

    assert (health.calls, health.window_calls, health.latency_p50_ms, health.latency_p99_ms) == (0, 0, None, None)
    assert (health.last_success_at, health.last_failure_at, health.failing_since) == (None, None, None)


def test_only_the_watched_clients_are_counted(server: LocalConnect) -> None:
    session = static_session()
    region = RegionClients.create("us-east-1", endpoint_url=server.endpoint_url, session=session, settings=ONE_ATTEMPT)
    other = session.client("connect", region_name="us-east-1", endpoint_url=server.endpoint_url)

    info = server.ready_info()
    other.describe_contact_flow(InstanceId=info["instance_id"], ContactFlowId=info["contact_flow_id"])

    assert region.health.snapshot().calls == 0


def test_clients_put_together_by_hand_have_a_health_of_their_own(server: LocalConnect) -> None:
    made = RegionClients.create("us-east-1", endpoint_url=server.endpoint_url, session=static_session())
    by_hand = RegionClients("us-east-1", server.endpoint_url, Contacts(made.contacts._client), Participant(None))

    assert by_hand.health is not made.health and by_hand.health.snapshot().calls == 0


def test_calls_from_many_threads_are_each_counted_once(server: LocalConnect) -> None:
    region = watched(server, RegionHealth())
    failures: list[BaseException] = []

    def ask() -> None:
        try:
            for _ in range(10):
                ask_flow(server, region)
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            failures.append(error)

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert not failures
    assert region.health.snapshot().calls == 80


@pytest.mark.parametrize(
    ("status", "code", "outcome"),
    [
        (200, None, Outcome.UP),
        (400, "ValidationException", Outcome.UP),
        (403, "AccessDeniedException", Outcome.UP),
        (404, "ResourceNotFoundException", Outcome.UP),
        (429, None, Outcome.THROTTLED),
        (400, "ThrottlingException", Outcome.THROTTLED),
        (400, "TooManyRequestsException", Outcome.THROTTLED),
        (400, "LimitExceededException", Outcome.THROTTLED),
        (500, "InternalServiceException", Outcome.ERROR),
        (503, "ServiceUnavailableException", Outcome.ERROR),
    ],
)
def test_what_an_answer_says_of_the_region(status: int, code: str | None, outcome: Outcome) -> None:
    assert outcome_of_answer(status, code) is outcome


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (EndpointConnectionError(endpoint_url="http://127.0.0.1:1"), Outcome.ERROR),
        (ConnectTimeoutError(endpoint_url="http://127.0.0.1:1"), Outcome.ERROR),
        (ReadTimeoutError(endpoint_url="http://127.0.0.1:1"), Outcome.ERROR),
        (RetryableError("AssumeRole", "StsUnavailable", "STS did not answer"), Outcome.ERROR),
        (Throttled("AssumeRole", "StsThrottled", "slow down"), Outcome.THROTTLED),
        (CredentialsRefused("AssumeRole", "AssumeRoleDenied", "the role's trust refuses us"), None),
        (ValueError("a bug of ours"), None),
    ],
)
def test_what_a_call_without_an_answer_says_of_the_region(error: BaseException, outcome: Outcome | None) -> None:
    assert outcome_of_exception(error) is outcome


def test_a_listener_is_told_each_call_with_its_operation_outcome_and_length(server: LocalConnect) -> None:
    told: list[tuple[str, Outcome, float]] = []
    health = RegionHealth(timer=Stopwatch([0.25, 0.5, 0.75]))
    health.listen(lambda operation, outcome, seconds: told.append((operation, outcome, seconds)))
    region = watched(server, health)

    started = region.contacts.start_chat(chat_start(server))
    server.throttle_next(1)
    with pytest.raises(Throttled):
        ask_flow(server, region)
    server.set_outage("us-east-1")
    with pytest.raises(RetryableError):
        region.participant.connect(started.participant_token)

    assert told == [
        ("StartChatContact", Outcome.UP, 0.25),
        ("DescribeContactFlow", Outcome.THROTTLED, 0.5),
        ("CreateParticipantConnection", Outcome.ERROR, 0.75),
    ]
