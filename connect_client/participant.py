"""The `connectparticipant` calls of the chat's customer side, typed.

These calls are authorised by tokens, not by signed credentials: the
participant token (from StartChatContact) to get a connection, the
connection token (from the connection) for the rest. Every method raises a
`ConnectError` subclass and nothing else from botocore.

    >>> connection = participant.connect(started.participant_token)
    >>> sent = participant.send_message(connection.connection_token, "Hi", client_token="evt-42")
    >>> missed = participant.transcript_after(connection.connection_token, after_id=last_seen_id)
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from connect_client.errors import ChatEnded, InvalidRequest, PermanentError, translated_errors
from connect_client.frames import ChatItem, parse_transcript_item
from connect_client.long_messages import DEFAULT_MESSAGE_LIMIT, refuse_long_message
from connect_client.records import ParticipantConnection, SentMessage

TRANSCRIPT_PAGE_SIZE = 100
TYPING = "application/vnd.amazonaws.connect.event.typing"


class Participant:
    """CreateParticipantConnection, SendMessage, SendEvent, DisconnectParticipant
    and GetTranscript over one boto3 `connectparticipant` client."""

    def __init__(self, client: Any, message_limit: int = DEFAULT_MESSAGE_LIMIT) -> None:
        self._client = client
        self.message_limit = message_limit

    def connect(self, participant_token: str) -> ParticipantConnection:
        """A new connection (WebSocket URL and connection token), acknowledging
        the participant as connected. Raises ChatEnded once the chat is over."""
        with translated_errors("CreateParticipantConnection", access_denied=ChatEnded):
            answer = self._client.create_participant_connection(
                Type=["WEBSOCKET", "CONNECTION_CREDENTIALS"], ParticipantToken=participant_token, ConnectParticipant=True
            )
        try:
            return ParticipantConnection(
                websocket_url=answer["Websocket"]["Url"],
                websocket_expiry=_instant(answer["Websocket"]["ConnectionExpiry"]),
                connection_token=answer["ConnectionCredentials"]["ConnectionToken"],
                connection_expiry=_instant(answer["ConnectionCredentials"]["Expiry"]),
            )
        except (KeyError, ValueError) as error:
            raise PermanentError("CreateParticipantConnection", "MalformedAnswer", f"no usable {error}") from None

    def send_message(
        self, connection_token: str, content: str, client_token: str, content_type: str = "text/plain"
    ) -> SentMessage:
        """Send one message; content over `message_limit` raises MessageTooLong
        without a call (split it first with `split_message` if that is wanted)."""
        refuse_long_message(content, self.message_limit)
        with translated_errors("SendMessage"):
            answer = self._client.send_message(
                ConnectionToken=connection_token, ContentType=content_type, Content=content, ClientToken=client_token
            )
        return SentMessage(answer["Id"], answer["AbsoluteTime"])

    def send_event(
        self, connection_token: str, client_token: str, content_type: str = TYPING, content: str | None = None
    ) -> None:
        """Typing (the default), or a read/delivered receipt with its JSON `content`."""
        request = {"ConnectionToken": connection_token, "ContentType": content_type, "ClientToken": client_token}
        if content is not None:
            request["Content"] = content
        with translated_errors("SendEvent"):
            self._client.send_event(**request)

    def disconnect(self, connection_token: str, client_token: str) -> None:
        with translated_errors("DisconnectParticipant"):
            self._client.disconnect_participant(ConnectionToken=connection_token, ClientToken=client_token)

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
        request: dict[str, Any] = {
            "ConnectionToken": connection_token,
            "MaxResults": TRANSCRIPT_PAGE_SIZE,
            "ScanDirection": "FORWARD",
            "SortOrder": "ASCENDING",
        }
        if start_id is not None:
            request["StartPosition"] = {"Id": start_id}
        items: list[ChatItem] = []
        while True:
            with translated_errors("GetTranscript"):
                answer = self._client.get_transcript(**request)
            items.extend(_transcript_items(answer.get("Transcript", [])))
            if not answer.get("NextToken"):
                return items
            request["NextToken"] = answer["NextToken"]


def _transcript_items(raw: list[dict[str, Any]]) -> list[ChatItem]:
    try:
        return [parse_transcript_item(item) for item in raw]
    except msgspec.ValidationError as error:
        raise PermanentError("GetTranscript", "MalformedAnswer", f"transcript item: {error}") from None


def _instant(text: str | datetime) -> datetime:
    """An ISO 8601 time as botocore hands it over (a string in these models)."""
    return text if isinstance(text, datetime) else datetime.fromisoformat(text)
