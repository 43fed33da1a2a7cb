"""The `connectparticipant` operations: CreateParticipantConnection,
SendMessage, SendEvent, GetTranscript, DisconnectParticipant.

The token in `X-Amz-Bearer` is the only credential and says which chat (and
so which region) a call is for. boto3 sends these calls unsigned; Amazon's
chatjs signs them: both are accepted, and a signature whose region is not
the chat's is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from connect_local.errors import AccessDenied, ChatError, InvalidInput
from connect_local.model import ChatModel, Connection, Contact, iso_time
from connect_local.rest import PARTICIPANT_ERRORS, ApiCall, Guard, ServiceError, rest_json_routes, signed_region
from connect_local.transcript import DEFAULT_MAX_RESULTS, TranscriptQuery, transcript_page
from connect_local.websocket import SOCKET_KEY_PARAMETER

MESSAGE_CONTENT_TYPES = frozenset({
    "text/plain",
    "text/markdown",
    "application/json",
    "application/vnd.amazonaws.connect.message.interactive.response",
})


def connection_answer(connection: Connection, types: list[str], socket_base_url: str) -> dict[str, Any]:
    """The `Websocket` and `ConnectionCredentials` members asked for in `types`."""
    answer: dict[str, Any] = {}
    if "WEBSOCKET" in types:
        answer["Websocket"] = {
            "Url": f"{socket_base_url}/?{SOCKET_KEY_PARAMETER}={connection.socket_key}",
            "ConnectionExpiry": iso_time(connection.socket_expires_at),
        }
    if "CONNECTION_CREDENTIALS" in types:
        answer["ConnectionCredentials"] = {
            "ConnectionToken": connection.token,
            "Expiry": iso_time(connection.token_expires_at),
        }
    return answer


class ParticipantApi:
    def __init__(self, model: ChatModel, socket_base_url: Callable[[], str]) -> None:
        self._model = model
        self._socket_base_url = socket_base_url

    def routes(self, guard: Guard) -> list[Route]:
        handlers = {
            "CreateParticipantConnection": self.create_participant_connection,
            "SendMessage": self.send_message,
            "SendEvent": self.send_event,
            "GetTranscript": self.get_transcript,
            "DisconnectParticipant": self.disconnect_participant,
        }
        return rest_json_routes("connectparticipant", handlers, PARTICIPANT_ERRORS, guard, self._region)

    def _region(self, request: Request, params: dict[str, Any]) -> str | None:
        contact = self._token_contact(params)
        if contact is None:
            return None
        signed = signed_region(request)
        if signed is not None and signed != contact.region:
            raise ServiceError("AccessDeniedException", 403, f"The token is for a chat in {contact.region}, not {signed}")
        return contact.region

    def _token_contact(self, params: dict[str, Any]) -> Contact | None:
        if "ParticipantToken" in params:
            return self._model.participant_contact(params["ParticipantToken"])
        try:
            return self._model.connection_contact(params.get("ConnectionToken", ""))
        except ChatError:
            return None

    def create_participant_connection(self, call: ApiCall) -> dict[str, Any]:
        types = call.params.get("Type") or []
        if not types:
            raise InvalidInput("Type must list WEBSOCKET and/or CONNECTION_CREDENTIALS")
        if "WEBRTC_CONNECTION" in types:
            raise InvalidInput("Type WEBRTC_CONNECTION is not available for this chat")
        connection = self._model.create_connection(call.params["ParticipantToken"], bool(call.params.get("ConnectParticipant")))
        return connection_answer(connection, types, self._socket_base_url())

    def send_message(self, call: ApiCall) -> dict[str, Any]:
        params = call.params
        if params["ContentType"] not in MESSAGE_CONTENT_TYPES:
            raise InvalidInput(f"ContentType {params['ContentType']!r} is not one of {sorted(MESSAGE_CONTENT_TYPES)}")
        item = self._model.send_message(params["ConnectionToken"], params["ContentType"], params["Content"], params.get("ClientToken"))
        return {"Id": item.id, "AbsoluteTime": iso_time(item.time)}

    def send_event(self, call: ApiCall) -> dict[str, Any]:
        params = call.params
        item = self._model.send_event(params["ConnectionToken"], params["ContentType"], params.get("Content"), params.get("ClientToken"))
        return {"Id": item.id, "AbsoluteTime": iso_time(item.time)}

    def get_transcript(self, call: ApiCall) -> dict[str, Any]:
        params = call.params
        contact = self._model.connection_contact(params["ConnectionToken"])
        if params.get("ContactId") not in (None, contact.id):
            raise AccessDenied(f"Contact {params['ContactId']} is not part of this chat")
        position = params.get("StartPosition") or {}
        if len(position) > 1:
            raise InvalidInput("StartPosition takes only one of Id, AbsoluteTime and MostRecent")
        query = TranscriptQuery(
            max_results=params.get("MaxResults", DEFAULT_MAX_RESULTS),
            next_token=params.get("NextToken"),
            scan_direction=params.get("ScanDirection", "FORWARD" if position else "BACKWARD"),
            sort_order=params.get("SortOrder", "ASCENDING"),
            start_id=position.get("Id"),
            start_time=position.get("AbsoluteTime"),
            most_recent=position.get("MostRecent"),
        )
        page, next_token = transcript_page(contact.transcript, query, contact.id)
        answer: dict[str, Any] = {"InitialContactId": contact.id, "Transcript": [item.to_wire() for item in page]}
        if next_token is not None:
            answer["NextToken"] = next_token
        return answer

    def disconnect_participant(self, call: ApiCall) -> dict[str, Any]:
        self._model.disconnect(call.params["ConnectionToken"], call.params.get("ClientToken"))
        return {}
