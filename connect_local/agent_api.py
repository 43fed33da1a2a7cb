"""The agent HTTP API (JSON under `/agent/api`) that the agent page and tests
use to act as a human agent, and the agent page's files under `/agent`.

    GET  /agent/api/chats                          every chat, newest first
    POST /agent/api/chats/{ContactId}/accept       {"AgentName": "Ana"}
    POST /agent/api/chats/{ContactId}/messages     {"Content": "...", "ContentType": "text/plain"}
    POST /agent/api/chats/{ContactId}/typing
    POST /agent/api/chats/{ContactId}/leave
    GET  /agent/api/chats/{ContactId}/transcript   {"Items": [...]} as GetTranscript shows them

Errors are `{"message": "..."}` with a 4xx status. A chat accepted here is
human-driven: only this API speaks for its agent. Chats the contact flow kept
out of the queue (outside hours) are not offered to agents and not listed.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from connect_local.errors import ChatError, Conflict, InvalidInput, NotFound
from connect_local.model import ChatModel, Contact, iso_time

STATIC_DIR = Path(__file__).parent / "static"
_STATUS = {NotFound: 404, Conflict: 409, InvalidInput: 400}


def chat_summary(contact: Contact) -> dict[str, Any]:
    return {
        "ContactId": contact.id,
        "InstanceId": contact.instance_id,
        "Region": contact.region,
        "QueueId": contact.queue_id,
        "State": contact.state,
        "CustomerName": contact.customer.display_name,
        "AgentName": contact.agent.display_name if contact.agent else None,
        "LastMessage": contact.last_message,
    }


class AgentApi:
    def __init__(self, model: ChatModel) -> None:
        self._model = model

    def routes(self) -> list[Route]:
        chat = "/agent/api/chats/{contact_id}"
        return [
            Route("/agent", self._page, methods=["GET"]),
            Route("/agent/static/{name}", self._static, methods=["GET"]),
            Route("/agent/api/chats", self._chats, methods=["GET"]),
            Route(f"{chat}/accept", self._guarded(self._accept), methods=["POST"]),
            Route(f"{chat}/messages", self._guarded(self._message), methods=["POST"]),
            Route(f"{chat}/typing", self._guarded(self._typing), methods=["POST"]),
            Route(f"{chat}/leave", self._guarded(self._leave), methods=["POST"]),
            Route(f"{chat}/transcript", self._guarded(self._transcript), methods=["GET"]),
        ]

    async def _page(self, request: Request) -> Response:
        return self._file(STATIC_DIR / "agent.html")

    async def _static(self, request: Request) -> Response:
        name = request.path_params["name"]
        if "/" in name or name.startswith("."):
            return _error(404, f"No file {name}")
        return self._file(STATIC_DIR / name)

    @staticmethod
    def _file(path: Path) -> Response:
        if not path.is_file():
            return _error(404, f"No file {path.name}")
        return FileResponse(path)

    async def _chats(self, request: Request) -> Response:
        chats = [chat_summary(c) for c in self._model.contacts() if c.state != "CLOSED"]
        return JSONResponse({"chats": chats})

    def _guarded(self, action: Callable[[Contact, dict[str, Any]], dict[str, Any]]) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            contact_id = request.path_params["contact_id"]
            try:
                contact = self._model.contact(contact_id)
                if contact.state == "CLOSED":
                    raise NotFound(f"Contact {contact_id} is not offered to agents")
                body = await _json_body(request)
                return JSONResponse(action(contact, body))
            except ChatError as error:
                status = next((s for kind, s in _STATUS.items() if isinstance(error, kind)), 400)
                return _error(status, str(error))

        return endpoint

    def _accept(self, contact: Contact, body: dict[str, Any]) -> dict[str, Any]:
        name = body.get("AgentName")
        if not isinstance(name, str) or not name.strip():
            raise InvalidInput("AgentName must be a non-empty string")
        self._model.join_agent(contact.id, name.strip(), "human")
        return {"ContactId": contact.id, "State": "CONNECTED", "AgentName": name.strip()}

    def _human_chat(self, contact: Contact) -> None:
        if contact.agent_kind != "human" or contact.state != "CONNECTED":
            raise Conflict(f"Contact {contact.id} has not been accepted through the agent API or has ended")

    def _message(self, contact: Contact, body: dict[str, Any]) -> dict[str, Any]:
        self._human_chat(contact)
        content, content_type = body.get("Content"), body.get("ContentType", "text/plain")
        if not isinstance(content, str) or not content:
            raise InvalidInput("Content must be a non-empty string")
        if content_type not in ("text/plain", "text/markdown"):
            raise InvalidInput("ContentType must be text/plain or text/markdown")
        item = self._model.agent_message(contact.id, content, content_type)
        return {"Id": item.id, "AbsoluteTime": iso_time(item.time)}

    def _typing(self, contact: Contact, body: dict[str, Any]) -> dict[str, Any]:
        self._human_chat(contact)
        self._model.agent_typing(contact.id)
        return {}

    def _leave(self, contact: Contact, body: dict[str, Any]) -> dict[str, Any]:
        self._human_chat(contact)
        self._model.agent_leave(contact.id)
        return {}

    def _transcript(self, contact: Contact, body: dict[str, Any]) -> dict[str, Any]:
        return {"Items": [item.to_wire() for item in contact.transcript]}


async def _json_body(request: Request) -> dict[str, Any]:
    if request.method != "POST":
        return {}
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise InvalidInput("The request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise InvalidInput("The request body must be a JSON object")
    return body


def _error(status: int, message: str) -> Response:
    return JSONResponse({"message": message}, status_code=status)
