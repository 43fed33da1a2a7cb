"""The typed calls against the local Amazon Connect: answers, idempotency,
transcript paging, and errors sorted into retryable and permanent."""

from __future__ import annotations

import socket
from collections.abc import Callable

import pytest

from connect_client import (
    AccessDenied,
    ChatEnded,
    ClientSettings,
    InvalidRequest,
    MessageTooLong,
    NotFound,
    QueueMetrics,
    RegionClients,
    RetryableError,
    Throttled,
    static_session,
)
from connect_local import Config, LocalConnect
from tests.connect_client.conftest import ONE_ATTEMPT, chat_start, region_for
from tests.connect_local.configs import config_with


def customer_messages(server: LocalConnect, contact_id: str) -> list[str]:
    return [i["Content"] for i in server.contact_record(contact_id)["Items"] if i["Type"] == "MESSAGE" and i["ParticipantRole"] == "CUSTOMER"]


def test_start_chat_passes_name_attributes_and_is_idempotent_on_its_client_token(server: LocalConnect, region: RegionClients) -> None:
    start = chat_start(server, client_token="transfer-7", attributes={"botName": "Otto"})

    first = region.contacts.start_chat(start)
    again = region.contacts.start_chat(start)

    assert again.contact_id == first.contact_id
    record = server.contact_record(first.contact_id)
    assert record["Attributes"] == {"botName": "Otto"}
    assert any(i["DisplayName"] == "Bob" and i["ParticipantRole"] == "CUSTOMER" for i in record["Items"])
    assert first.participant_token not in repr(first)


def test_a_connection_has_a_loopback_socket_url_and_expiries_in_the_future(server: LocalConnect, region: RegionClients) -> None:
    started = region.contacts.start_chat(chat_start(server))

    connection = region.participant.connect(started.participant_token)

    assert connection.websocket_url.startswith(f"ws://127.0.0.1:{server.port}/")
    assert connection.websocket_expiry < connection.connection_expiry
    assert connection.connection_token not in repr(connection) and "X-Amz" not in repr(connection)


def test_send_message_answers_connects_id_and_a_retry_with_the_same_token_sends_nothing_twice(
    server: LocalConnect, region: RegionClients
) -> None:
    started = region.contacts.start_chat(chat_start(server))
    token = region.participant.connect(started.participant_token).connection_token

    first = region.participant.send_message(token, "once", client_token="event-1")
    retried = region.participant.send_message(token, "once", client_token="event-1")

    assert retried == first
    assert customer_messages(server, started.contact_id) == ["once"]


def test_a_message_over_the_limit_is_refused_before_any_call(server: LocalConnect, region: RegionClients) -> None:
    started = region.contacts.start_chat(chat_start(server))
    token = region.participant.connect(started.participant_token).connection_token

    with pytest.raises(MessageTooLong) as refused:
        region.participant.send_message(token, "x" * 16_385, client_token="long")

    assert (refused.value.size, refused.value.limit, refused.value.retryable) == (16_385, 16_384, False)
    assert customer_messages(server, started.contact_id) == []
    region.participant.send_message(token, "x" * 16_384, client_token="at-limit")
    assert customer_messages(server, started.contact_id) == ["x" * 16_384]


def test_transcript_after_pages_forward_to_the_end(start_server: Callable[[Config], LocalConnect]) -> None:
    server = start_server(config_with(agents=[]))
    region = region_for(server)
    started = region.contacts.start_chat(chat_start(server))
    token = region.participant.connect(started.participant_token).connection_token
    sent = [region.participant.send_message(token, f"m{n}", client_token=f"m{n}") for n in range(230)]

    everything = region.participant.transcript_after(token)
    after_tenth = region.participant.transcript_after(token, after_id=sent[9].id)

    assert [i.content for i in everything if i.type == "MESSAGE"] == [f"m{n}" for n in range(230)]
    assert [i.id for i in after_tenth] == [s.id for s in sent[10:]]


def test_an_after_id_connect_does_not_know_falls_back_to_the_whole_transcript(
    start_server: Callable[[Config], LocalConnect],
) -> None:
    server = start_server(config_with(agents=[]))
    region = region_for(server)
    started = region.contacts.start_chat(chat_start(server))
    token = region.participant.connect(started.participant_token).connection_token
    for n in range(3):
        region.participant.send_message(token, f"m{n}", client_token=f"m{n}")

    filled = region.participant.transcript_after(token, after_id="no-such-item")

    assert [i.content for i in filled if i.type == "MESSAGE"] == ["m0", "m1", "m2"]


def test_typing_and_disconnect_reach_connect(server: LocalConnect, region: RegionClients) -> None:
    started = region.contacts.start_chat(chat_start(server))
    token = region.participant.connect(started.participant_token).connection_token

    region.participant.send_event(token, client_token="typing-1")
    region.participant.disconnect(token, client_token="leave-1")

    record = server.contact_record(started.contact_id)
    assert record["State"] == "ENDED"
    assert any(i["ContentType"].endswith("event.typing") and i["ClientToken"] == "typing-1" for i in record["Items"])


def test_contact_attributes_are_updated(server: LocalConnect, region: RegionClients) -> None:
    started = region.contacts.start_chat(chat_start(server, attributes={"a": "1"}))

    region.contacts.update_attributes(server.ready_info()["instance_id"], started.contact_id, {"b": "2"})

    assert server.contact_record(started.contact_id)["Attributes"] == {"a": "1", "b": "2"}


def test_queue_metrics_count_waiting_chats_and_agents(start_server: Callable[[Config], LocalConnect]) -> None:
    server = start_server(config_with(agents=[]))
    region = region_for(server)
    info = server.ready_info()
    assert region.contacts.queue_metrics(info["instance_id"], info["queue_id"]) == QueueMetrics(0, 0, 0, None)

    region.contacts.start_chat(chat_start(server))
    metrics = region.contacts.queue_metrics(info["instance_id"], info["queue_id"])

    assert (metrics.agents_online, metrics.contacts_in_queue) == (0, 1)
    assert metrics.oldest_contact_age_seconds is not None and metrics.oldest_contact_age_seconds >= 0


def test_throttling_surfaces_as_a_retryable_error(server: LocalConnect, region: RegionClients) -> None:
    started = region.contacts.start_chat(chat_start(server))
    token = region.participant.connect(started.participant_token).connection_token
    server.throttle_next(1, operation="SendMessage")

    with pytest.raises(Throttled) as throttled:
        region.participant.send_message(token, "slow down", client_token="t-1")

    assert throttled.value.retryable and isinstance(throttled.value, RetryableError)
    assert (throttled.value.operation, throttled.value.code) == ("SendMessage", "ThrottlingException")


def test_a_throttle_within_botocores_attempts_is_retried_away(server: LocalConnect) -> None:
    region = region_for(server, ClientSettings(max_attempts=3))
    info = server.ready_info()
    server.throttle_next(1, operation="GetCurrentMetricData")

    assert region.contacts.queue_metrics(info["instance_id"], info["queue_id"]).agents_online == 1


def test_server_errors_are_retryable(server: LocalConnect, region: RegionClients) -> None:
    server.fail_share(1.0)

    with pytest.raises(RetryableError) as failed:
        region.contacts.start_chat(chat_start(server))

    assert failed.value.code == "InternalServiceException" and not isinstance(failed.value, Throttled)


def test_an_unreachable_endpoint_is_retryable() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    region = RegionClients.create("us-east-1", endpoint_url=f"http://127.0.0.1:{port}", session=static_session(), settings=ONE_ATTEMPT)

    with pytest.raises(RetryableError) as refused:
        region.participant.connect("a-participant-token")

    assert refused.value.code == "EndpointConnectionError"
    assert "a-participant-token" not in str(refused.value)


def test_a_new_connection_after_the_chat_ended_raises_chat_ended(server: LocalConnect, region: RegionClients) -> None:
    started = region.contacts.start_chat(chat_start(server))
    token = region.participant.connect(started.participant_token).connection_token
    region.participant.disconnect(token, client_token="leave")

    with pytest.raises(ChatEnded) as ended:
        region.participant.connect(started.participant_token)

    assert ended.value.code == "AccessDeniedException" and not ended.value.retryable


def test_a_write_after_the_chat_ended_is_access_denied_not_chat_ended(server: LocalConnect, region: RegionClients) -> None:
    started = region.contacts.start_chat(chat_start(server))
    token = region.participant.connect(started.participant_token).connection_token
    region.participant.disconnect(token, client_token="leave")

    with pytest.raises(AccessDenied) as denied:
        region.participant.send_message(token, "anyone?", client_token="late")

    assert not isinstance(denied.value, ChatEnded)


def test_unknown_instance_is_not_found_and_bad_fields_are_invalid(server: LocalConnect, region: RegionClients) -> None:
    with pytest.raises(NotFound) as missing:
        region.contacts.start_chat(chat_start(server, instance_id="00000000-0000-4000-8000-000000000000"))
    assert missing.value.code == "ResourceNotFoundException"

    with pytest.raises(InvalidRequest) as invalid:
        region.contacts.start_chat(chat_start(server, chat_duration_minutes=5))
    assert not invalid.value.retryable and "ChatDurationInMinutes" in str(invalid.value)


def test_stopping_an_ended_contact_is_not_found(server: LocalConnect, region: RegionClients) -> None:
    started = region.contacts.start_chat(chat_start(server))
    instance_id = server.ready_info()["instance_id"]
    region.contacts.stop(instance_id, started.contact_id)

    with pytest.raises(NotFound) as gone:
        region.contacts.stop(instance_id, started.contact_id)

    assert gone.value.code == "ContactNotFoundException"


def test_the_connect_client_is_made_at_the_first_contacts_call_once(server: LocalConnect) -> None:
    """A restart's recovery calls only the participant operations: the region's boto3 `connect` client
    (its model read and parsed) waits for a transfer or a queue's metrics."""
    made: list[str] = []
    session = static_session()
    make_client = session.client
    session.client = lambda name, **options: (made.append(name), make_client(name, **options))[1]  # type: ignore[method-assign]
    region = RegionClients.create(server.ready_info()["region"], endpoint_url=server.endpoint_url, session=session)
    assert made == []

    chat = region.contacts.start_chat(chat_start(server))
    region.contacts.update_attributes(server.ready_info()["instance_id"], chat.contact_id, {"k": "v"})

    assert made == ["connect"]
    assert region.health.snapshot().calls == 2  # the client made late is counted as one made at once was
