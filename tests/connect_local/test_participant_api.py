"""connectparticipant: events, receipts, limits, tokens and idempotency."""

from __future__ import annotations

import json
from collections.abc import Callable
import urllib.error
import urllib.request

import pytest

from connect_local import Config, LocalConnect
from connect_local.config import Limits
from tests.connect_local.clients import EVENT, Clients, is_event, is_message, wait_until
from tests.connect_local.configs import config_with


def test_typing_reaches_the_socket_but_not_the_transcript(clients: Clients) -> None:
    chat = clients.start_chat()
    socket = chat.connect()

    answer = clients.participant.send_event(ConnectionToken=chat.connection_token, ContentType=EVENT + "typing")

    typing = socket.wait_item(is_event("typing", "CUSTOMER"))
    assert typing["Id"] == answer["Id"]
    transcript = chat.transcript(ScanDirection="FORWARD")["Transcript"]
    assert all(item["ContentType"] != EVENT + "typing" for item in transcript)


def test_a_read_receipt_is_sent_as_metadata_and_kept_on_the_message(clients: Clients) -> None:
    chat = clients.start_chat()
    socket = chat.connect()
    chat.send("hi")
    reply = socket.wait_item(is_message("You said: hi", "AGENT"))

    clients.participant.send_event(
        ConnectionToken=chat.connection_token, ContentType=EVENT + "message.read", Content=json.dumps({"messageId": reply["Id"]})
    )

    metadata = socket.wait_item(lambda item: item["Type"] == "MESSAGEMETADATA")
    assert metadata["MessageMetadata"]["MessageId"] == reply["Id"]
    assert metadata["MessageMetadata"]["Receipts"][0]["RecipientParticipantId"] == chat.participant_id
    assert "ReadTimestamp" in metadata["MessageMetadata"]["Receipts"][0]
    kept = next(i for i in chat.transcript(ScanDirection="FORWARD")["Transcript"] if i["Id"] == reply["Id"])
    assert kept["MessageMetadata"]["Receipts"][0]["ReadTimestamp"] == metadata["MessageMetadata"]["Receipts"][0]["ReadTimestamp"]


def test_a_receipt_for_ones_own_message_is_a_conflict(clients: Clients) -> None:
    chat = clients.start_chat()
    chat.connect()
    own = chat.send("hi")
    with pytest.raises(clients.participant.exceptions.ConflictException):
        clients.participant.send_event(
            ConnectionToken=chat.connection_token, ContentType=EVENT + "message.delivered", Content=json.dumps({"messageId": own["Id"]})
        )


def test_a_receipt_for_an_unknown_message_is_invalid(clients: Clients) -> None:
    chat = clients.start_chat()
    chat.connect()
    with pytest.raises(clients.participant.exceptions.ValidationException, match="messageId"):
        clients.participant.send_event(
            ConnectionToken=chat.connection_token, ContentType=EVENT + "message.read", Content='{"messageId": "nope"}'
        )


def test_an_event_type_a_participant_cannot_send_is_invalid(clients: Clients) -> None:
    chat = clients.start_chat()
    chat.connect()
    with pytest.raises(clients.participant.exceptions.ValidationException, match="chat.ended"):
        clients.participant.send_event(ConnectionToken=chat.connection_token, ContentType=EVENT + "chat.ended")


def test_a_message_over_16384_characters_is_refused(clients: Clients) -> None:
    chat = clients.start_chat()
    chat.connect()
    chat.send("x" * 16384)
    with pytest.raises(clients.participant.exceptions.ValidationException, match="Content"):
        chat.send("x" * 16385)


def test_the_message_limit_is_a_setting(start_server: Callable[[Config], LocalConnect]) -> None:
    server: LocalConnect = start_server(config_with(limits=Limits(message_max_bytes=1024)))
    with Clients(server) as clients:
        chat = clients.start_chat()
        chat.connect()
        chat.send("x" * 1024)
        with pytest.raises(clients.participant.exceptions.ValidationException, match="1024"):
            chat.send("x" * 1025)


def test_the_message_limit_counts_utf8_bytes_for_every_content_type(start_server: Callable[[Config], LocalConnect]) -> None:
    server: LocalConnect = start_server(config_with(limits=Limits(message_max_bytes=1024)))
    with Clients(server) as clients:
        chat = clients.start_chat()
        chat.connect()
        chat.send("ж" * 512)  # 1,024 bytes
        with pytest.raises(clients.participant.exceptions.ValidationException, match="1026 bytes long in UTF-8"):
            chat.send("ж" * 513)
        with pytest.raises(clients.participant.exceptions.ValidationException, match="bytes"):
            clients.participant.send_message(
                ConnectionToken=chat.connection_token, ContentType="application/json", Content='"' + "ж" * 600 + '"'
            )


def test_a_refusal_on_demand_answers_the_next_calls_of_an_operation_and_does_nothing(clients: Clients) -> None:
    chat = clients.start_chat()
    chat.connect()
    clients.server.refuse_next(1, "SendMessage", "ValidationException", "ContentType text/x-card is not supported")
    with pytest.raises(clients.participant.exceptions.ValidationException, match="text/x-card"):
        chat.send("refused")
    chat.send("taken")
    record = clients.server.contact_record(chat.contact_id)
    assert [i["Content"] for i in record["Items"] if i["Type"] == "MESSAGE" and i["ParticipantRole"] == "CUSTOMER"] == ["taken"]


def test_an_unknown_content_type_is_refused(clients: Clients) -> None:
    chat = clients.start_chat()
    chat.connect()
    with pytest.raises(clients.participant.exceptions.ValidationException, match="ContentType"):
        clients.participant.send_message(ConnectionToken=chat.connection_token, ContentType="image/png", Content="x")


def test_unknown_tokens_are_denied_on_every_call(clients: Clients) -> None:
    participant = clients.participant
    denied = participant.exceptions.AccessDeniedException
    with pytest.raises(denied):
        participant.create_participant_connection(Type=["WEBSOCKET"], ParticipantToken="not-a-token")
    with pytest.raises(denied):
        participant.send_message(ConnectionToken="not-a-token", ContentType="text/plain", Content="hi")
    with pytest.raises(denied):
        participant.send_event(ConnectionToken="not-a-token", ContentType=EVENT + "typing")
    with pytest.raises(denied):
        participant.get_transcript(ConnectionToken="not-a-token")
    with pytest.raises(denied):
        participant.disconnect_participant(ConnectionToken="not-a-token")


def test_the_participant_token_is_not_a_connection_token(clients: Clients) -> None:
    chat = clients.start_chat()
    with pytest.raises(clients.participant.exceptions.AccessDeniedException):
        clients.participant.send_message(ConnectionToken=chat.participant_token, ContentType="text/plain", Content="hi")


def test_errors_carry_the_error_type_header_and_a_message(clients: Clients) -> None:
    with pytest.raises(clients.participant.exceptions.AccessDeniedException) as raised:
        clients.participant.get_transcript(ConnectionToken="not-a-token")
    response = raised.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"] == "AccessDeniedException"
    assert response["Error"]["Message"]


def test_a_retried_send_message_returns_the_first_answer_and_sends_once(clients: Clients) -> None:
    chat = clients.start_chat()
    socket = chat.connect()
    first = chat.send("only once", ClientToken="token-1")
    again = chat.send("only once", ClientToken="token-1")

    assert (again["Id"], again["AbsoluteTime"]) == (first["Id"], first["AbsoluteTime"])
    socket.wait_item(is_message("You said: only once"))
    record = clients.server.contact_record(chat.contact_id)
    sent = [i for i in record["Items"] if i.get("Content") == "only once"]
    assert [(i["Id"], i["ClientToken"]) for i in sent] == [(first["Id"], "token-1")]


def test_a_retried_send_event_and_disconnect_act_once(clients: Clients) -> None:
    chat = clients.start_chat()
    chat.connect()
    send_event = clients.participant.send_event
    first = send_event(ConnectionToken=chat.connection_token, ContentType=EVENT + "typing", ClientToken="typing-1")
    again = send_event(ConnectionToken=chat.connection_token, ContentType=EVENT + "typing", ClientToken="typing-1")
    assert again["Id"] == first["Id"]

    clients.participant.disconnect_participant(ConnectionToken=chat.connection_token, ClientToken="bye-1")
    clients.participant.disconnect_participant(ConnectionToken=chat.connection_token, ClientToken="bye-1")

    items = clients.server.contact_record(chat.contact_id)["Items"]
    assert sum(1 for i in items if i["ContentType"] == EVENT + "typing") == 1
    assert sum(1 for i in items if i["ContentType"] == EVENT + "participant.left") == 1
    assert sum(1 for i in items if i["ContentType"] == EVENT + "chat.ended") == 1


def test_a_signed_participant_call_for_another_region_is_denied(clients: Clients) -> None:
    """chatjs signs participant calls; the signature's region must be the chat's."""
    chat = clients.start_chat()
    chat.connect()
    request = clients.participant.meta.endpoint_url + "/participant/transcript"
    signed = urllib.request.Request(request, data=b"{}", method="POST")
    signed.add_header("X-Amz-Bearer", chat.connection_token)
    signed.add_header("Authorization", "AWS4-HMAC-SHA256 Credential=/20261124/eu-west-2/execute-api/aws4_request, SignedHeaders=host, Signature=00")
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(signed, timeout=5)
    assert raised.value.code == 403

    signed.remove_header("Authorization")
    signed.add_header("Authorization", "AWS4-HMAC-SHA256 Credential=/20261124/us-east-1/execute-api/aws4_request, SignedHeaders=host, Signature=00")
    with urllib.request.urlopen(signed, timeout=5) as response:
        assert json.loads(response.read())["InitialContactId"] == chat.contact_id


def test_cors_preflight_allows_the_headers_chatjs_sends(clients: Clients) -> None:
    preflight = urllib.request.Request(clients.server.endpoint_url + "/participant/message", method="OPTIONS")
    preflight.add_header("Origin", "http://example.test")
    preflight.add_header("Access-Control-Request-Method", "POST")
    preflight.add_header("Access-Control-Request-Headers", "authorization,content-type,x-amz-bearer,x-amz-date")
    with urllib.request.urlopen(preflight, timeout=5) as response:
        assert response.status == 200
        allowed = response.headers["Access-Control-Allow-Headers"].lower()
    for header in ("authorization", "content-type", "x-amz-bearer", "x-amz-date"):
        assert header in allowed


def test_connect_participant_acknowledges_the_connection_outside_the_transcript(clients: Clients) -> None:
    chat = clients.start_chat()
    chat.connect()
    acks = [i for i in clients.server.contact_record(chat.contact_id)["Items"] if i["ContentType"] == EVENT + "connection.acknowledged"]
    assert [(a["ParticipantRole"], a["InTranscript"]) for a in acks] == [("CUSTOMER", False)]


def test_make_before_break_both_sockets_get_every_frame_until_the_old_one_closes(clients: Clients) -> None:
    chat = clients.start_chat()
    old = chat.connect()
    new = chat.connect()
    chat.send("during the switch")
    for socket in (old, new):
        socket.wait_item(is_message("You said: during the switch"))
    old.close()
    chat.send("after the switch")
    new.wait_item(is_message("You said: after the switch"))
    assert wait_until(lambda: clients.server.open_sockets(chat.contact_id) == 1)


def test_a_retry_after_the_chat_ended_still_gets_the_first_answer(clients: Clients) -> None:
    chat = clients.start_chat()
    chat.connect()
    first = chat.send("last words", ClientToken="last-1")
    clients.participant.disconnect_participant(ConnectionToken=chat.connection_token)
    assert chat.send("last words", ClientToken="last-1")["Id"] == first["Id"]
    with pytest.raises(clients.participant.exceptions.AccessDeniedException):
        chat.send("last words", ClientToken="last-2")
