"""The bots' HTTP API as a Starlette app over a `WorkerService`.

A 2xx answer means what was asked is decided and durable in the event log;
effects at Connect follow. Handlers run the service's blocking calls in
Starlette's thread pool.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import msgspec
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from api.bodies import (
    ContextRequest,
    Conversation,
    ConversationList,
    EndError,
    Error,
    KnownAgent,
    MessageRequest,
    TransferRequest,
)
from events import ConversationState, Rejected
from events.commands import ContextChanged, UserLeaves, UserSays, UserTyping
from service import ConversationNotFound, WorkerDisabled, WorkerService
from store.workers import UnknownWorker

OPENAPI_FILE = Path(__file__).with_name("openapi.json")

# Rejection codes that say the caller's body is wrong, not the conversation's state.
_BAD_REQUEST_CODES = {"empty_message", "message_too_long", "invalid_display_name"}
_NOT_FOUND_CODES = {"not_transferred"}


def create_app(service: WorkerService, token: str, extra_routes: Sequence[BaseRoute] = ()) -> Starlette:
    """The API; `extra_routes` (the bot delivery's pull stream) are mounted behind the same token."""
    expected = f"Bearer {token}".encode()

    def guarded(handler: Callable[[Request], Any]) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            given = request.headers.get("authorization", "").encode()
            if not secrets.compare_digest(given, expected):
                return _error(401, "unauthorized", "send the API token as 'Authorization: Bearer TOKEN'")
            try:
                return await handler(request)
            except msgspec.ValidationError as error:
                return _error(400, "invalid_body", f"invalid body: {error}")
            except msgspec.DecodeError as error:
                return _error(400, "invalid_body", f"the body is not valid JSON: {error}")
            except UnknownWorker as error:
                return _error(404, "unknown_worker", str(error))
            except WorkerDisabled as error:
                return _error(409, "worker_disabled", str(error))
            except ConversationNotFound as error:
                return _error(404, "unknown_conversation", str(error))
            except Rejected as rejection:
                status = 400 if rejection.code in _BAD_REQUEST_CODES else 404 if rejection.code in _NOT_FOUND_CODES else 409
                return _error(status, rejection.code, rejection.message)

        return endpoint

    async def transfer(request: Request) -> Response:
        body = msgspec.json.decode(await request.body(), type=TransferRequest)
        state = await run_in_threadpool(
            service.transfer,
            body.conversation_id,
            body.worker_id,
            bot_name=body.bot_name,
            user_name=body.user.name,
            context=body.context,
            deliver_to=body.deliver_to,
        )
        return _json(201, conversation_view(state))

    async def message(request: Request) -> Response:
        body = msgspec.json.decode(await request.body(), type=MessageRequest)
        command = UserSays(at=service.clock(), bot_message_id=body.message_id, text=body.text, content_type=body.content_type)
        return await _command(request, command)

    async def typing(request: Request) -> Response:
        return await _command(request, UserTyping(at=service.clock()))

    async def leave(request: Request) -> Response:
        return await _command(request, UserLeaves(at=service.clock()))

    async def context(request: Request) -> Response:
        body = msgspec.json.decode(await request.body(), type=ContextRequest)
        return await _command(request, ContextChanged(at=service.clock(), context=body.context))

    async def _command(request: Request, command: Any) -> Response:
        conversation_id = request.path_params["conversation_id"]
        state = await run_in_threadpool(service.handle, conversation_id, command)
        return _json(202, conversation_view(state))

    async def show(request: Request) -> Response:
        state = await run_in_threadpool(service.state, request.path_params["conversation_id"])
        return _json(200, conversation_view(state))

    async def listing(request: Request) -> Response:
        live = request.query_params.get("live", "true")
        if live != "true":
            return _error(400, "invalid_query", "only live=true is supported: ended conversations are read one by one")
        ids = await run_in_threadpool(service.live)
        return _json(200, ConversationList(conversations=ids))

    async def openapi(request: Request) -> Response:
        return Response(OPENAPI_FILE.read_bytes(), media_type="application/json")

    routes: list[BaseRoute] = [
        Route("/openapi.json", openapi, methods=["GET"]),
        Route("/v1/conversations", guarded(transfer), methods=["POST"]),
        Route("/v1/conversations", guarded(listing), methods=["GET"]),
        Route("/v1/conversations/{conversation_id}", guarded(show), methods=["GET"]),
        Route("/v1/conversations/{conversation_id}/messages", guarded(message), methods=["POST"]),
        Route("/v1/conversations/{conversation_id}/typing", guarded(typing), methods=["POST"]),
        Route("/v1/conversations/{conversation_id}/leave", guarded(leave), methods=["POST"]),
        Route("/v1/conversations/{conversation_id}/context", guarded(context), methods=["PUT"]),
    ]
    for route in extra_routes:
        if isinstance(route, Route):
            routes.append(Route(route.path, guarded(route.endpoint), methods=route.methods, name=route.name))
        else:
            routes.append(route)
    return Starlette(routes=routes)


def conversation_view(state: ConversationState) -> Conversation:
    chat = state.chat
    return Conversation(
        conversation_id=state.conversation_id,
        phase=state.phase,
        version=state.version,
        worker_id=state.worker_id,
        bot_name=state.bot_name,
        display_name=state.display_name,
        context=state.context,
        deliver_to=state.deliver_to or None,
        contact_id=chat.contact_id if chat else None,
        participant_id=chat.participant_id if chat else None,
        last_known_agent=None if state.last_known_agent is None else KnownAgent(agent_name=state.last_known_agent),
        session_end_reason=state.end_reason,
        error=None if state.end_error is None else EndError(code=state.end_error.code, message=state.end_error.message),
    )


def _json(status: int, body: msgspec.Struct) -> Response:
    return Response(msgspec.json.encode(body), status_code=status, media_type="application/json")


def _error(status: int, code: str, message: str) -> Response:
    return _json(status, Error(code=code, message=message))

