"""The bots' HTTP API as a Starlette app over a `WorkerService`.

A 2xx answer means what was asked is decided and durable in the event log;
effects at Connect follow. Handlers run the service's blocking calls in
Starlette's thread pool. Every route but /openapi.json and the operator page's
files needs a client's token; a route with a conversation in its path answers only for a conversation the
client may see, and 404 for any other, exactly as for one that does not exist. A conversation's timeline
is an admin client's only: a bot asking for its own is refused with 403.
Workers are shared configuration: any client may read any worker (its active region, never a secret
or vault reference) and its queue; and so are the regions in use: any client may read how each is doing.
The service's own routes: /healthz and /readyz need no token (api/health_routes.py); /metrics, the
Prometheus metrics, an admin client's. The bots' routes serve while the service recovers its live
conversations after a start (service/worker_service.py).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import pykka
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from actors.region import RegionSupervisor
from cluster import OwnedElsewhere
from api.bodies import (
    ApiClient,
    ContextRequest,
    Conversation,
    ConversationList,
    EndError,
    KnownAgent,
    MessageRequest,
    ActiveRegion,
    FailoverOrder,
    RegionList,
    RegionStatus,
    Timeline,
    TransferRequest,
    Worker,
    WorkerList,
    WorkerQueue,
)
from api.context_limits import context_problems
from api.deliver_to import deliver_to_problem
from api.errors import ApiError, error_response
from api.health_routes import health_routes
from api.operator_page import operator_page_routes
from api import loop_ask
from api.forwarding import forwarded
from api.ownership import Ownership
from api.request_body import DEFAULT_MAX_BODY_BYTES, read_body
from api.timeline import armed_timers_of, fold_timeline, pending_effects_of
from api.validation import Check, parse_body
from connect_client import Throttled
from delivery.backpressure import Backpressure
from delivery.pull import BadQuery
from events import ConversationState, Rejected, redact_url
from events.commands import ContextChanged, UserLeaves, UserSays, UserTyping
from service import (
    ConversationNotFound,
    NoQueue,
    QueueMetricsUnavailable,
    QueueReading,
    WorkerDisabled,
    WorkerService,
)
from store import LeaseLost
from store.clients import ApiClients, Client
from events.worker import WorkerState, connect_target
from events.worker_queue import queue_target
from metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from metrics import ServiceMetrics
from service.readiness import Readiness
from service.worker_service import ASK_TIMEOUT
from store.workers import UnknownWorker

OPENAPI_FILE = Path(__file__).with_name("openapi.json")

# Rejection codes that say the caller's body is wrong, not the conversation's state.
_BAD_REQUEST_CODES = {"empty_message", "message_too_long", "invalid_display_name"}
_NOT_FOUND_CODES = {"not_transferred"}
_UNAUTHORIZED = "send a client's token as 'Authorization: Bearer TOKEN' (python run.py client create NAME makes one)"
_ADMIN_ONLY = (
    "a conversation's timeline is for the operator: send an admin client's token "
    "(python run.py client create NAME --admin makes one)"
)

_METRICS_ADMIN_ONLY = (
    "the service's metrics are for the operator: send an admin client's token "
    "(python run.py client create prometheus --admin makes one for the scraper)"
)

log = logging.getLogger(__name__)

Handler = Callable[[Request, Client], Awaitable[Response]]


def create_app(
    service: WorkerService,
    clients: ApiClients,
    extra_routes: Sequence[BaseRoute] = (),
    *,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    metrics: ServiceMetrics | None = None,
    readiness: Readiness | None = None,
    backpressure: Backpressure | None = None,
) -> Starlette:
    """The API; `extra_routes` (the bot delivery's pull stream) are served behind the same token and scope.
    `metrics`: what /metrics shows (None: a registry no service reports to). `readiness`: what /readyz
    answers (None: always ready, for an app built without a running service). `backpressure`: when a
    bot's new messages and transfers are refused with 429 because delivery to it is behind (None: never)."""
    ownership = Ownership(service.store)
    metrics = metrics if metrics is not None else ServiceMetrics()

    def guarded(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            try:
                client = _authenticated(request, clients)
                conversation_id = request.path_params.get("conversation_id")
                if conversation_id is not None and not await may_see(client, conversation_id):
                    raise ConversationNotFound(conversation_id)
                return await handler(request, client)
            except _ANSWERED as error:
                return _answer_for(error)
            except OwnedElsewhere as elsewhere:
                assert service.cluster is not None  # only a cluster's node raises it
                return await forwarded(request, elsewhere, service.cluster.node_id)

        return endpoint

    async def may_see(client: Client, conversation_id: str) -> bool:
        """Whether the client may see the conversation: from the owners kept when it is there (no
        thread-pool hop on a bot's every message), else read from the store on the pool."""
        known = ownership.known_may_see(client, conversation_id)
        if known is not None:
            return known
        return await run_in_threadpool(ownership.may_see, client, conversation_id)

    async def body(request: Request, body_type: type, checks: Sequence[Check] = ()) -> Any:
        return parse_body(await read_body(request, max_body_bytes), body_type, checks)

    async def transfer(request: Request, client: Client) -> Response:
        parsed: TransferRequest = await body(request, TransferRequest, [_context_check, _deliver_to_check(client)])
        refuse_if_behind(client)
        await refuse_if_taken(client, parsed.conversation_id)
        try:
            state = await run_in_threadpool(
                service.transfer,
                parsed.conversation_id,
                parsed.worker_id,
                bot_name=parsed.bot_name,
                user_name=parsed.user.name,
                context=parsed.context,
                deliver_to=parsed.deliver_to,
                client_id=client.id,
            )
        except Rejected:
            await refuse_if_taken(client, parsed.conversation_id)  # another bot's transfer won a race for the id
            raise
        ownership.transferred(parsed.conversation_id, state.client_id)
        return _json(201, conversation_view(state))

    async def refuse_if_taken(client: Client, conversation_id: str) -> None:
        """Conversation ids are one namespace for every bot: refuse an id another client has, saying no more."""
        exists = await run_in_threadpool(ownership.exists, conversation_id)
        if exists and not await may_see(client, conversation_id):
            raise ApiError(
                409,
                "conversation_id_taken",
                f"ConversationId {conversation_id!r} is in use: choose another (an unguessable one)",
            )

    def refuse_if_behind(client: Client) -> None:
        """429 while webhook delivery to this client is behind (delivery/backpressure.py): a new message
        or conversation would only add to what it waits for. Typing, context changes and leaving are
        never refused: they add no answer, and leaving ends one."""
        if backpressure is None:
            return
        wait = backpressure.retry_after(client.id)
        if wait is not None:
            raise ApiError(
                429,
                "delivery_behind",
                f"webhook delivery to this client is more than {backpressure.limit_seconds:g} s behind "
                f"(its webhook answers slowly, or the service is overloaded): send again after {wait} s",
                {"Retry-After": str(wait)},
            )

    async def message(request: Request, client: Client) -> Response:
        parsed: MessageRequest = await body(request, MessageRequest)
        refuse_if_behind(client)
        command = UserSays(
            at=service.clock(), bot_message_id=parsed.message_id, text=parsed.text, content_type=parsed.content_type
        )
        return await _command(request, command)

    async def typing(request: Request, client: Client) -> Response:
        return await _command(request, UserTyping(at=service.clock()))

    async def leave(request: Request, client: Client) -> Response:
        return await _command(request, UserLeaves(at=service.clock()))

    async def context(request: Request, client: Client) -> Response:
        parsed: ContextRequest = await body(request, ContextRequest, [_context_check])
        return await _command(request, ContextChanged(at=service.clock(), context=parsed.context))

    async def _command(request: Request, command: Any) -> Response:
        conversation_id = request.path_params["conversation_id"]
        ref = service.running_actor(conversation_id)
        state = None
        if ref is not None:
            try:
                state = await loop_ask.ask(ref, command, ASK_TIMEOUT)
            except (pykka.ActorDeadError, LeaseLost):
                pass  # it stopped (another node took it): `handle` starts it again, or says who serves it
        if state is None:
            state = await run_in_threadpool(service.handle, conversation_id, command)
        return _json(202, conversation_view(state))

    async def show(request: Request, client: Client) -> Response:
        state = await run_in_threadpool(service.state, request.path_params["conversation_id"])
        return _json(200, conversation_view(state))

    async def timeline(request: Request, client: Client) -> Response:
        if not client.admin:
            raise ApiError(403, "admin_only", _ADMIN_ONLY)
        events, state = await run_in_threadpool(fold_timeline, service.store, request.path_params["conversation_id"])
        return _json(
            200,
            Timeline(
                conversation=conversation_view(state),
                events=events,
                pending=pending_effects_of(state),
                armed_timers=armed_timers_of(state),
            ),
        )

    async def own_client(request: Request, client: Client) -> Response:
        return _json(200, ApiClient(client_id=client.id, name=client.name, admin=client.admin))

    async def listing(request: Request, client: Client) -> Response:
        live = request.query_params.get("live", "true")
        if live != "true":
            raise ApiError(400, "invalid_query", "live: only live=true is supported: ended conversations are read one by one")

        def own_live() -> list[str]:
            return [conversation for conversation in service.live() if ownership.may_see(client, conversation)]

        return _json(200, ConversationList(conversations=await run_in_threadpool(own_live)))

    async def conversations(request: Request, client: Client) -> Response:
        return await (transfer if request.method == "POST" else listing)(request, client)

    async def worker_queue(request: Request, client: Client) -> Response:
        reading = await run_in_threadpool(service.queue_metrics, request.path_params["worker_id"])
        return _json(200, worker_queue_view(reading))

    async def worker(request: Request, client: Client) -> Response:
        state = await run_in_threadpool(service.workers.state, request.path_params["worker_id"])
        return _json(200, worker_view(state))

    async def workers(request: Request, client: Client) -> Response:
        states = await run_in_threadpool(service.workers.states)
        return _json(200, WorkerList(workers=[worker_view(state) for state in states]))

    async def regions(request: Request, client: Client) -> Response:
        return _json(200, await run_in_threadpool(region_list_view, service.supervisors()))

    async def scrape(request: Request, client: Client) -> Response:
        if not client.admin:
            raise ApiError(403, "admin_only", _METRICS_ADMIN_ONLY)
        return Response(await run_in_threadpool(metrics.render), media_type=METRICS_CONTENT_TYPE)

    async def openapi(request: Request) -> Response:
        return Response(OPENAPI_FILE.read_bytes(), media_type="application/json")

    def pulled(endpoint: Callable[[Request], Awaitable[Response]]) -> Handler:
        """The pull stream, its token checked again as it answers: a long poll that waited is answered
        401 if the token was revoked meanwhile, and an open event stream ends before its next frame.
        Otherwise a stolen token, once revoked, would still read what it was reading."""

        async def handler(request: Request, client: Client) -> Response:
            response = await endpoint(request)
            _authenticated(request, clients)
            if isinstance(response, StreamingResponse):
                response.body_iterator = _while_authenticated(response.body_iterator, request, clients)
            return response

        return handler

    routes: list[BaseRoute] = [
        Route("/openapi.json", openapi, methods=["GET"]),
        # One route for both methods, so that a 405 there says `Allow: GET, HEAD, POST`.
        Route("/v1/conversations", guarded(conversations), methods=["GET", "POST"]),
        Route("/v1/conversations/{conversation_id}", guarded(show), methods=["GET"]),
        Route("/v1/conversations/{conversation_id}/messages", guarded(message), methods=["POST"]),
        Route("/v1/conversations/{conversation_id}/typing", guarded(typing), methods=["POST"]),
        Route("/v1/conversations/{conversation_id}/leave", guarded(leave), methods=["POST"]),
        Route("/v1/conversations/{conversation_id}/context", guarded(context), methods=["PUT"]),
        Route("/v1/conversations/{conversation_id}/timeline", guarded(timeline), methods=["GET"]),
        Route("/v1/client", guarded(own_client), methods=["GET"]),
        Route("/v1/workers", guarded(workers), methods=["GET"]),
        Route("/v1/workers/{worker_id}", guarded(worker), methods=["GET"]),
        Route("/v1/workers/{worker_id}/queue", guarded(worker_queue), methods=["GET"]),
        Route("/v1/regions", guarded(regions), methods=["GET"]),
        Route("/metrics", guarded(scrape), methods=["GET"]),
        *health_routes(readiness),
        *operator_page_routes(),
    ]
    for route in extra_routes:
        if not isinstance(route, Route):
            raise TypeError(f"{route!r}: only plain routes can be served behind the API's token")
        routes.append(Route(route.path, guarded(pulled(route.endpoint)), methods=route.methods, name=route.name))
    return Starlette(
        routes=routes,
        exception_handlers={HTTPException: _http_exception, Exception: _server_error},
    )


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
        deliver_to=redact_url(state.deliver_to) if state.deliver_to else None,  # no credential shown back
        contact_id=chat.contact_id if chat else None,
        participant_id=chat.participant_id if chat else None,
        last_known_agent=None if state.last_known_agent is None else KnownAgent(agent_name=state.last_known_agent),
        session_end_reason=state.end_reason,
        error=None if state.end_error is None else EndError(code=state.end_error.code, message=state.end_error.message),
    )


def worker_view(state: WorkerState) -> Worker:
    """A worker with the region its new transfers start in and its last failover order."""
    config = state.config
    assert config is not None
    target, queue = connect_target(config), queue_target(config)
    failovers = config.data.failover_region_config
    order = None
    if state.failover_order:
        order = FailoverOrder(
            order=state.failover_order, mode=state.failover_mode, carried_out=state.carried_out >= state.failover_order
        )
    return Worker(
        worker_id=state.worker_id,
        name=config.name,
        enabled=config.enabled,
        active_region=ActiveRegion(
            name=target.failover_region, region=target.region, instance_id=target.instance_id,
            contact_flow_id=target.contact_flow_id, queue_id=queue.queue_id,
        ),
        failover_regions=[] if failovers is None else [region.name for region in failovers.failover_regions],
        failover_order=order,
    )


def worker_queue_view(reading: QueueReading) -> WorkerQueue:
    metrics = reading.metrics
    return WorkerQueue(
        worker_id=reading.worker_id,
        region=reading.region,
        queue_id=reading.queue_id,
        agents_online=metrics.agents_online,
        agents_available=metrics.agents_available,
        contacts_in_queue=metrics.contacts_in_queue,
        oldest_contact_age_seconds=metrics.oldest_contact_age_seconds,
        as_of=datetime.fromtimestamp(reading.as_of, UTC),
        age_seconds=round(reading.age_seconds, 3),
    )


def region_list_view(supervisors: Sequence[RegionSupervisor]) -> RegionList:
    """Every region supervisor's figures, by region, then secret."""
    views = [region_status_view(supervisor) for supervisor in supervisors]
    return RegionList(regions=sorted(views, key=lambda view: (view.region, view.secret or "")))


def region_status_view(supervisor: RegionSupervisor) -> RegionStatus:
    health = supervisor.clients.health.snapshot()
    return RegionStatus(
        region=supervisor.clients.region,
        secret=supervisor.secret,
        live_conversations=supervisor.live_actors(),
        calls=health.calls,
        errors=health.errors,
        throttles=health.throttles,
        error_rate=round(health.error_rate, 4),
        throttle_rate=round(health.throttle_rate, 4),
        latency_p50_ms=health.latency_p50_ms,
        latency_p99_ms=health.latency_p99_ms,
        consecutive_failures=health.consecutive_failures,
        last_success_at=_utc(health.last_success_at),
        last_failure_at=_utc(health.last_failure_at),
        failing_since=_utc(health.failing_since),
    )


def _utc(seconds: float | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


def _authenticated(request: Request, clients: ApiClients) -> Client:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    client = clients.authenticate(token.strip()) if scheme.lower() == "bearer" and token.strip() else None
    if client is None:
        raise ApiError(401, "unauthorized", _UNAUTHORIZED, {"WWW-Authenticate": "Bearer"})
    return client


async def _while_authenticated(
    frames: AsyncIterable[str | bytes], request: Request, clients: ApiClients
) -> AsyncIterator[str | bytes]:
    """The stream's frames while the request's token is still a client's: it ends before the first
    frame after a revoke (a keep-alive comes every 15 s, so within that of the revoke at most). Each
    check is a read of the clients' table (a DynamoDB GetItem in a cluster), made on the thread pool so
    that no stream holds up the event loop; a check that fails (the table not answering) ends the
    stream too, and the bot resumes it with `Last-Event-ID`."""
    try:
        async for frame in frames:
            try:
                await run_in_threadpool(_authenticated, request, clients)
            except ApiError:
                return
            except Exception:  # noqa: BLE001 - the clients' store failing; never leave a stream unchecked
                log.warning("a pull stream's token could not be checked again; the stream ends", exc_info=True)
                return
            yield frame
    finally:
        close = getattr(frames, "aclose", None)
        if close is not None:
            await close()


def _context_check(raw: dict[str, Any]) -> list[str]:
    context = raw.get("Context")
    return context_problems(context) if isinstance(context, dict) else []


def _deliver_to_check(client: Client) -> Check:
    def check(raw: dict[str, Any]) -> list[str]:
        url = raw.get("DeliverTo")
        problem = deliver_to_problem(url, client.allowed_hosts) if isinstance(url, str) else None
        return [f"$.DeliverTo: {problem}"] if problem else []

    return check


_ANSWERED = (
    ApiError,
    BadQuery,
    UnknownWorker,
    WorkerDisabled,
    NoQueue,
    QueueMetricsUnavailable,
    ConversationNotFound,
    Rejected,
)


def _answer_for(error: Exception) -> Response:
    """The answer for one of the `_ANSWERED` errors: a 4xx, or a 502 or 503 for Amazon Connect's failure
    (anything else is a JSON 500, `_server_error`)."""
    if isinstance(error, ApiError):
        return error_response(error.status, error.code, error.message, error.headers)
    if isinstance(error, BadQuery):
        return error_response(400, "invalid_query", str(error))
    if isinstance(error, UnknownWorker):
        return error_response(404, "unknown_worker", str(error))
    if isinstance(error, WorkerDisabled):
        return error_response(409, "worker_disabled", str(error))
    if isinstance(error, NoQueue):
        return error_response(409, "no_queue", str(error))
    if isinstance(error, QueueMetricsUnavailable):
        return _queue_metrics_failure(error)
    if isinstance(error, ConversationNotFound):
        return error_response(404, "unknown_conversation", str(error))
    if isinstance(error, Rejected):
        status = 400 if error.code in _BAD_REQUEST_CODES else 404 if error.code in _NOT_FOUND_CODES else 409
        return error_response(status, error.code, error.message)
    raise TypeError(f"no answer for {error!r}")


def _queue_metrics_failure(failure: QueueMetricsUnavailable) -> Response:
    """503 with Retry-After when a later call may succeed (throttled, a 5xx, unreachable), else 502."""
    error = failure.error
    if not error.retryable:
        return error_response(
            502,
            "connect_refused",
            f"Amazon Connect refused to give the queue's figures ({error}): check the worker's Region, "
            "InstanceId and QueueId, and that the service may call connect:GetCurrentMetricData",
        )
    throttled = isinstance(error, Throttled)
    code, what = ("connect_throttled", "throttled") if throttled else ("connect_unavailable", "failed")
    return error_response(
        503,
        code,
        f"Amazon Connect {what} when asked for the queue's figures ({error}); ask again in {failure.retry_after} s",
        {"Retry-After": str(failure.retry_after)},
    )


async def _http_exception(request: Request, error: Exception) -> Response:
    """Starlette's own 404 (no such path) and 405 (the path, not that method) in the one error shape."""
    assert isinstance(error, HTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
    message = {
        404: f"no route {request.url.path!r}: see /openapi.json",
        405: f"{request.method} is not served at {request.url.path!r}",
    }.get(error.status_code, str(error.detail))
    return error_response(error.status_code, code, message, dict(error.headers or {}))


async def _server_error(request: Request, error: Exception) -> Response:
    return error_response(500, "internal_error", "the service failed on this request; its log says why")


def _json(status: int, body: msgspec.Struct) -> Response:
    return Response(msgspec.json.encode(body), status_code=status, media_type="application/json")
