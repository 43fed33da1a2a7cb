"""The chat socket against the local Amazon Connect: subscribe, relay, drop
and gap fill, renewal before expiry, chat end, outage and close."""

from __future__ import annotations

import threading
from collections.abc import Callable

from connect_client import (
    ChatSocket,
    ItemKind,
    RegionClients,
    SocketConnected,
    SocketReconnecting,
    SocketState,
    SocketStopped,
    StopReason,
)
from connect_client.socket_hub import DEFAULT_WORKERS
from connect_local import Config, LocalConnect
from connect_local.config import Limits
from tests.connect_client.conftest import chat_start, region_for
from tests.connect_client.owner import Owner, fast_settings, kind, message
from tests.connect_local.configs import config_with

OpenSocket = Callable[..., tuple[ChatSocket, Owner]]
WAIT = 10.0


def connected(state: SocketState) -> bool:
    return isinstance(state, SocketConnected)


def stopped(state: SocketState) -> bool:
    return isinstance(state, SocketStopped)


def transcript_ids(server: LocalConnect, contact_id: str) -> list[str]:
    return [item["Id"] for item in server.contact_record(contact_id)["Items"] if item["InTranscript"]]


def owner_transcript_ids(owner: Owner) -> list[str]:
    return [item.id for item in owner.unique_items() if item.in_transcript]


def test_a_message_goes_out_and_the_agents_reply_comes_back_through_the_callback(
    server: LocalConnect, region: RegionClients, open_socket: OpenSocket
) -> None:
    started = region.contacts.start_chat(chat_start(server))
    _, owner = open_socket(region, started)
    owner.wait_state(connected)

    sent = region.participant.send_message(owner.connection_token(), "hello", client_token="message-1")

    reply = owner.wait_item(message("You said: hello", role="AGENT"))
    echo = owner.wait_item(message("hello", role="CUSTOMER"))
    assert echo.id == sent.id
    assert reply.display_name == "Ana"
    assert reply.contact_id == started.contact_id
    assert owner.wait_item(kind(ItemKind.PARTICIPANT_JOINED)).participant_role in ("AGENT", "CUSTOMER")


def test_items_from_before_the_subscription_come_from_the_transcript(
    server: LocalConnect, region: RegionClients, open_socket: OpenSocket
) -> None:
    started = region.contacts.start_chat(chat_start(server, initial_message="I need help"))
    _, owner = open_socket(region, started)

    owner.wait_item(message("I need help", role="CUSTOMER"))
    owner.wait_item(lambda item: item.kind is ItemKind.PARTICIPANT_JOINED and item.participant_role == "AGENT")
    assert owner_transcript_ids(owner) == transcript_ids(server, started.contact_id)


def test_a_dropped_socket_reconnects_and_the_message_sent_meanwhile_arrives_once(
    server: LocalConnect, region: RegionClients, open_socket: OpenSocket
) -> None:
    release = threading.Event()
    reconnecting = threading.Event()

    class HeldOwner(Owner):
        """Keeps the socket from reconnecting until the test has sent its message."""

        def on_state(self, state: SocketState) -> None:
            super().on_state(state)
            if isinstance(state, SocketReconnecting):
                reconnecting.set()
                release.wait(WAIT)

    started = region.contacts.start_chat(chat_start(server))
    _, owner = open_socket(region, started, HeldOwner())
    owner.wait_state(connected)
    token = owner.connection_token()
    region.participant.send_message(token, "before", client_token="m-before")
    owner.wait_item(message("You said: before"))

    assert server.drop_sockets(started.contact_id) == 1
    assert reconnecting.wait(WAIT)
    while_away = region.participant.send_message(token, "while away", client_token="m-away")
    release.set()

    owner.wait_item(message("You said: while away"))
    assert owner.wait_item(message("while away")).id == while_away.id
    assert owner_transcript_ids(owner) == transcript_ids(server, started.contact_id)
    assert [i.content for i in owner.unique_items() if i.kind is ItemKind.MESSAGE].count("while away") == 1


def test_a_region_outage_is_waited_out_with_backoff_and_nothing_is_missed(
    server: LocalConnect, region: RegionClients, open_socket: OpenSocket
) -> None:
    started = region.contacts.start_chat(chat_start(server))
    _, owner = open_socket(region, started)
    owner.wait_state(connected)
    token = owner.connection_token()

    server.set_outage("us-east-1")
    owner.wait_state(lambda s: isinstance(s, SocketReconnecting) and s.reason.startswith("CreateParticipantConnection"))
    owner.wait_state(lambda s: isinstance(s, SocketReconnecting) and s.attempt >= 2)
    server.set_outage("us-east-1", down=False)
    owner.wait_state(connected)
    region.participant.send_message(token, "back", client_token="m-back")

    owner.wait_item(message("You said: back"))
    delays = [s for s in owner.seen_states if isinstance(s, SocketReconnecting)]
    assert all(0 < s.delay_seconds <= 0.2 * 1.3 for s in delays)
    assert owner_transcript_ids(owner) == transcript_ids(server, started.contact_id)


def test_the_socket_is_renewed_before_it_expires_without_a_drop(
    start_server: Callable[[Config], LocalConnect], open_socket: OpenSocket
) -> None:
    server = start_server(config_with(limits=Limits(connection_lifetime_seconds=2.0)))
    region = region_for(server)
    started = region.contacts.start_chat(chat_start(server))
    _, owner = open_socket(region, started, settings=fast_settings(renew_before_expiry=1.5))

    renewal = owner.wait_state(lambda s: isinstance(s, SocketConnected) and s.renewed)
    assert isinstance(renewal, SocketConnected)
    region.participant.send_message(renewal.connection.connection_token, "renewed", client_token="m-renewed")

    owner.wait_item(message("You said: renewed"))
    assert not [s for s in owner.seen_states if isinstance(s, SocketReconnecting)]
    assert owner_transcript_ids(owner) == transcript_ids(server, started.contact_id)
    assert len(owner.items) == len(owner.unique_items())


def test_the_chat_ending_stops_the_socket_after_delivering_chat_ended(
    server: LocalConnect, region: RegionClients, open_socket: OpenSocket
) -> None:
    started = region.contacts.start_chat(chat_start(server))
    chat_socket, owner = open_socket(region, started)
    owner.wait_state(connected)

    region.participant.disconnect(owner.connection_token(), client_token="leave-1")

    stop = owner.wait_state(stopped)
    assert stop == SocketStopped(StopReason.CHAT_ENDED, "the chat has ended")
    assert chat_socket.wait_stopped(WAIT)
    assert owner.unique_items()[-1].kind is ItemKind.CHAT_ENDED
    assert owner.wait_item(kind(ItemKind.PARTICIPANT_LEFT)).participant_role == "CUSTOMER"


def test_a_socket_started_on_an_ended_chat_stops_with_chat_ended(
    server: LocalConnect, region: RegionClients, open_socket: OpenSocket
) -> None:
    started = region.contacts.start_chat(chat_start(server))
    region.contacts.stop(server.ready_info()["instance_id"], started.contact_id)

    _, owner = open_socket(region, started)

    stop = owner.wait_state(stopped)
    assert isinstance(stop, SocketStopped) and stop.reason is StopReason.CHAT_ENDED


def test_recovery_starts_after_the_last_item_the_owner_saw(
    server: LocalConnect, region: RegionClients, open_socket: OpenSocket
) -> None:
    started = region.contacts.start_chat(chat_start(server))
    first, owner = open_socket(region, started)
    owner.wait_state(connected)
    region.participant.send_message(owner.connection_token(), "one", client_token="m-one")
    last_seen = owner.wait_item(message("You said: one"))
    first.close()
    assert first.wait_stopped(WAIT)
    region.participant.send_message(owner.connection_token(), "two", client_token="m-two")

    _, recovered = open_socket(region, started, after_id=last_seen.id)

    recovered.wait_item(message("You said: two"))
    everything = transcript_ids(server, started.contact_id)
    assert owner_transcript_ids(recovered) == everything[everything.index(last_seen.id) + 1 :]


def test_close_stops_the_socket_and_reports_it(server: LocalConnect, region: RegionClients, open_socket: OpenSocket) -> None:
    started = region.contacts.start_chat(chat_start(server))
    chat_socket, owner = open_socket(region, started)
    owner.wait_state(connected)

    chat_socket.close()

    assert chat_socket.wait_stopped(WAIT)
    assert owner.wait_state(stopped) == SocketStopped(StopReason.CLOSED, "closed by its owner")
    assert server.contact_record(started.contact_id)["State"] != "ENDED"


def test_a_server_that_stops_answering_heartbeats_is_left_for_a_new_connection(
    server: LocalConnect, region: RegionClients, open_socket: OpenSocket
) -> None:
    started = region.contacts.start_chat(chat_start(server))
    _, owner = open_socket(region, started)
    owner.wait_state(connected)
    hung = threading.Event()
    resume = threading.Event()

    def hang() -> None:
        hung.set()
        resume.wait(WAIT)

    # The whole server stalls with its TCP connections open, as a hung peer
    # or a silent network would: nothing answers the heartbeats.
    server.scheduler.call_soon(hang)
    assert hung.wait(WAIT)
    try:
        dead = owner.wait_state(lambda s: isinstance(s, SocketReconnecting))
    finally:
        resume.set()
    assert isinstance(dead, SocketReconnecting) and dead.reason == "the last heartbeat was not answered"

    owner.wait_state(connected)
    region.participant.send_message(owner.connection_token(), "still there?", client_token="m-hb")
    owner.wait_item(message("You said: still there?"))
    assert owner_transcript_ids(owner) == transcript_ids(server, started.contact_id)


def test_a_refused_subscription_is_retried_then_the_socket_gives_up(
    server: LocalConnect, region: RegionClients, open_socket: OpenSocket
) -> None:
    started = region.contacts.start_chat(chat_start(server))
    settings = fast_settings(subscribe_retry=0.05, subscribe_attempts=2, reconnect_attempts=2)

    _, owner = open_socket(region, started, subscribe_message='{"topic":"aws/subscribe","content":{}}', settings=settings)

    stop = owner.wait_state(stopped)
    assert stop == SocketStopped(StopReason.GAVE_UP, "2 reconnections failed, the last: subscribe not accepted after 2 tries")
    retries = [s for s in owner.seen_states if isinstance(s, SocketReconnecting)]
    assert [s.reason for s in retries] == ["subscribe not accepted after 2 tries"]
    assert not [s for s in owner.seen_states if isinstance(s, SocketConnected)]


def test_many_sockets_share_the_hub_instead_of_a_thread_each(
    server: LocalConnect, region: RegionClients, open_socket: OpenSocket
) -> None:
    threads_before = threading.active_count()
    sockets = DEFAULT_WORKERS + 20  # more than a thread each could hide among the pool's
    owners = [open_socket(region, region.contacts.start_chat(chat_start(server)))[1] for _ in range(sockets)]

    for owner in owners:
        owner.wait_state(connected)

    # The hub's pool makes the blocking calls; nothing grows with the sockets.
    assert threading.active_count() - threads_before <= DEFAULT_WORKERS + 1


def test_a_long_chat_leaves_its_socket_remembering_only_the_newest_few_ids(
    server: LocalConnect, region: RegionClients, open_socket: OpenSocket
) -> None:
    """The socket skips its own repeats around a (re)connection, which are the newest items: what it
    remembers for that must not grow with every exchange of a chat that stays open for hours."""
    started = region.contacts.start_chat(chat_start(server))
    chat_socket, owner = open_socket(region, started)
    owner.wait_state(connected)

    for n in range(12):
        region.participant.send_message(owner.connection_token(), f"message {n}", client_token=f"m-{n}")
        owner.wait_item(message(f"You said: message {n}"))

    assert len(owner.unique_items()) > 24
    assert len(chat_socket._recent) <= 8
