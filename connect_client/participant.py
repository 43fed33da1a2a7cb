"""The `connectparticipant` calls of the chat's customer side, typed.

These calls are authorised by tokens, not by signed credentials: the
participant token (from StartChatContact) to get a connection, the
connection token (from the connection) for the rest. They go out through
`ParticipantTransport` (participant_http.py: JSON over the project's HTTP
client, retried, counted in the region's health), not boto3; answers are
decoded by msgspec straight into typed values. Every method raises a
`ConnectError` subclass and nothing else.

    >>> connection = participant.connect(started.participant_token)
    >>> sent = participant.send_message(connection.connection_token, "Hi", client_token="evt-42")
    >>> missed = participant.transcript_after(connection.connection_token, after_id=last_seen_id)
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from connect_client.errors import ChatEnded, InvalidRequest, PermanentError
from connect_client.frames import ChatItem
from connect_client.long_messages import DEFAULT_MESSAGE_LIMIT, refuse_long_message
from connect_client.participant_http import ParticipantTransport
from connect_client.records import ParticipantConnection, SentMessage

TRANSCRIPT_PAGE_SIZE = 100
TYPING = "application/vnd.amazonaws.connect.event.typing"
_CONNECTION_TYPES = ["WEBSOCKET", "CONNECTION_CREDENTIALS"]


class _Answer(msgspec.Struct, frozen=True, rename="pascal"):
    pass


class _Websocket(_Answer):
    url: str
    connection_expiry: str


class _Credentials(_Answer):
    connection_token: str
    expiry: str


class _Connection(_Answer):
    websocket: _Websocket
    connection_credentials: _Credentials


class _Sent(_Answer):
    id: str
    absolute_time: str


class _TranscriptPage(_Answer):
    transcript: list[ChatItem] = []
    next_token: str | None = None


_connection_answer = msgspec.json.Decoder(_Connection)
_sent_answer = msgspec.json.Decoder(_Sent)
_transcript_page = msgspec.json.Decoder(_TranscriptPage)
_encode = msgspec.json.encode


class Participant:
    """CreateParticipantConnection, SendMessage, SendEvent, DisconnectParticipant
    and GetTranscript over one region's `ParticipantTransport`."""

    def __init__(self, transport: ParticipantTransport, message_limit: int = DEFAULT_MESSAGE_LIMIT) -> None:
        self._transport = transport
        self.message_limit = message_limit

    def connect(self, participant_token: str) -> ParticipantConnection:
        """A new connection (WebSocket URL and connection token), acknowledging
        the participant as connected. Raises ChatEnded once the chat is over."""
        operation = "CreateParticipantConnection"
        body = self._transport.call(
            operation, participant_token, _encode({"Type": _CONNECTION_TYPES, "ConnectParticipant": True}),
            access_denied=ChatEnded,
        )
        answer = _decoded(operation, _connection_answer, body)
        try:
            return ParticipantConnection(
                websocket_url=answer.websocket.url,
                websocket_expiry=datetime.fromisoformat(answer.websocket.connection_expiry),
                connection_token=answer.connection_credentials.connection_token,
                connection_expiry=datetime.fromisoformat(answer.connection_credentials.expiry),
            )
        except ValueError as error:
            raise PermanentError(operation, "MalformedAnswer", f"no usable expiry: {error}") from None

    def send_message(
        self, connection_token: str, content: str, client_token: str, content_type: str = "text/plain"
    ) -> SentMessage:
        """Send one message; content over `message_limit` raises MessageTooLong
        without a call (split it first with `split_message` if that is wanted)."""
        refuse_long_message(content, self.message_limit)
        request = _encode({"ContentType": content_type, "Content": content, "ClientToken": client_token})
        answer = _decoded("SendMessage", _sent_answer, self._transport.call("SendMessage", connection_token, request))
        return SentMessage(answer.id, answer.absolute_time)

    def send_event(
        self, connection_token: str, client_token: str, content_type: str = TYPING, content: str | None = None
    ) -> None:
        """Typing (the default), or a read/delivered receipt with its JSON `content`."""
        request: dict[str, str] = {"ContentType": content_type, "ClientToken": client_token}
        if content is not None:
            request["Content"] = content
        self._transport.call("SendEvent", connection_token, _encode(request))

    def disconnect(self, connection_token: str, client_token: str) -> None:
        self._transport.call("DisconnectParticipant", connection_token, _encode({"ClientToken": client_token}))

    def transcript_after(self, connection_token: str, after_id: str | None = None) -> list[ChatItem]:
        """Every transcript item after the one with id `after_id` (from the
        start when None), oldest first, following NextToken to the end.

        The scan starts at StartPosition {Id: after_id}; whether Connect
        returns that item itself is not documented, so it is dropped if it
        comes. Should Connect refuse the position (an id it does not know),
        the whole transcript is read instead and what follows `after_id` kept
        (all of it if the id is not there): the owner deduplicates, and a
        gap fill must not end the chat."""
        if after_id is None:
            return self._transcript(connection_token, None)
        try:
            return [item for item in self._transcript(connection_token, after_id) if item.id != after_id]
        except InvalidRequest:
            items = self._transcript(connection_token, None)
            ids = [item.id for item in items]
            return items[ids.index(after_id) + 1 :] if after_id in ids else items

    def _transcript(self, connection_token: str, start_id: str | None) -> list[ChatItem]:
        request: dict[str, Any] = {"MaxResults": TRANSCRIPT_PAGE_SIZE, "ScanDirection": "FORWARD", "SortOrder": "ASCENDING"}
        if start_id is not None:
            request["StartPosition"] = {"Id": start_id}
        items: list[ChatItem] = []
        while True:
            body = self._transport.call("GetTranscript", connection_token, _encode(request))
            page = _decoded("GetTranscript", _transcript_page, body)
            items.extend(page.transcript)
            if not page.next_token:
                return items
            request["NextToken"] = page.next_token


def _decoded(operation: str, decoder: msgspec.json.Decoder[Any], body: bytes) -> Any:
    """A 2xx answer's body as its typed value; one that is not what the model says is a PermanentError."""
    try:
        return decoder.decode(body)
    except msgspec.DecodeError as error:
        raise PermanentError(operation, "MalformedAnswer", str(error)) from None
