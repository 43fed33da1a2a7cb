"""The local Amazon Connect server: one Starlette app on one port (REST,
WebSocket, agent and admin APIs) served by uvicorn on a background thread.

    >>> with LocalConnect() as connect:
    ...     client = boto3.client("connect", endpoint_url=connect.endpoint_url,
    ...                           region_name="us-east-1", aws_access_key_id="x",
    ...                           aws_secret_access_key="x")
    ...     connect.ready_info()["instance_id"]

Access logs are off: WebSocket URLs carry their credential, and tokens must
never reach a log.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from types import TracebackType
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import WebSocketRoute

from connect_local.admin import AdminApi
from connect_local.agent_api import AgentApi
from connect_local.agents import AgentPool
from connect_local.config import Config, default_config
from connect_local.connect_api import ConnectApi
from connect_local.controls import Controls
from connect_local.faults import Faults
from connect_local.model import ChatModel
from connect_local.participant_api import ParticipantApi
from connect_local.rest import Guard
from connect_local.scheduler import Scheduler
from connect_local.ses import Outbox, SentEmail
from connect_local.ses_api import SesApi
from connect_local.shortener import ShortenerApi
from connect_local.sts import AssumeRoleCall, RoleTrust
from connect_local.sts_api import StsApi
from connect_local.throttle import RateLimiter
from connect_local.translate_api import TranslateApi
from connect_local.websocket import SocketHub
from net.server_thread import ServerThread, listening_sockets

START_TIMEOUT_SECONDS = 10.0
EXPIRY_SWEEP_SECONDS = 0.25
_WILDCARD_HOSTS = ("", "0.0.0.0", "::")


class LocalConnect(Controls):
    """A running local Amazon Connect: start it, point boto3 at
    `endpoint_url`, stop it. Its Controls methods inspect contacts and inject
    faults. `clock` (seconds since the epoch) is the time the chat model
    sees: item times, hours of operation, token and chat expiry; a test can
    move it forward to reach the end of a chat's duration."""

    def __init__(
        self,
        config: Config | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config or default_config()
        model = ChatModel(self.config, clock)
        faults = Faults()
        self.scheduler = Scheduler()
        super().__init__(model, SocketHub(model, faults, self.scheduler), faults)
        self.agents = AgentPool(model, self.scheduler)
        self.limiter = RateLimiter(self.config)
        self.outbox = Outbox(clock)
        self.trust = RoleTrust(clock)
        self._host = host
        self._port = port
        self._served: ServerThread | None = None

    @property
    def port(self) -> int:
        if self._served is None:
            raise RuntimeError("the local Amazon Connect is not running")
        return self._port

    @property
    def advertised_host(self) -> str:
        """Where clients reach it; chatjs accepts only ws://127.0.0.1:PORT URLs."""
        return "127.0.0.1" if self._host in _WILDCARD_HOSTS else self._host

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.advertised_host}:{self.port}"

    @property
    def websocket_url(self) -> str:
        return f"ws://{self.advertised_host}:{self.port}"

    def ready_info(self) -> dict[str, Any]:
        """What a script needs to drive it (no tokens): the ready file's content."""
        region = self.config.regions[0]
        instance = region.instances[0]
        flow = instance.contact_flows[0]
        return {
            "endpoint_url": self.endpoint_url,
            "region": region.name,
            "regions": [served.name for served in self.config.regions],
            "instance_id": instance.id,
            "contact_flow_id": flow.id,
            "queue_id": flow.queue_id,
            "agent_api_url": f"{self.endpoint_url}/agent/api",
            "agent_page_url": f"{self.endpoint_url}/agent",
            "admin_url": f"{self.endpoint_url}/admin",
        }

    def sent_emails(self) -> list[SentEmail]:
        """Every email SES SendEmail accepted, oldest first (also `GET /admin/emails`)."""
        return self.outbox.sent()

    def assume_role_calls(self) -> list[AssumeRoleCall]:
        """Every STS AssumeRole call, oldest first (also `GET /admin/assume-role-calls`)."""
        return self.trust.calls()

    def build_app(self) -> Starlette:
        guard = Guard(self.faults, self.limiter)
        ses = SesApi(self.outbox, guard)
        sts = StsApi(self.trust, guard)
        routes = [
            *ConnectApi(self.model, self.agents, lambda: self.websocket_url).routes(guard),
            *ParticipantApi(self.model, lambda: self.websocket_url).routes(guard),
            # STS's form-encoded POST / (signed for sts) before SES's (any other form), both before
            # Translate's JSON one on the same path.
            *sts.routes(),
            *ses.routes(),
            *TranslateApi(guard).routes(),
            *ShortenerApi().routes(),
            *AgentApi(self.model).routes(),
            *AdminApi(self).routes(),
            *ses.admin_routes(),
            *sts.admin_routes(),
            WebSocketRoute("/", self.hub.serve),
        ]

        @contextlib.asynccontextmanager
        async def lifespan(app: Starlette) -> AsyncIterator[None]:
            self.scheduler.attach(asyncio.get_running_loop())
            sweeper = asyncio.create_task(self._end_expired_chats())
            yield
            sweeper.cancel()

        cors = Middleware(
            CORSMiddleware,
            allow_origins=["*"],
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["x-amzn-ErrorType", "x-amzn-RequestId"],
        )
        return Starlette(
            routes=routes, middleware=[cors], lifespan=lifespan, exception_handlers={HTTPException: _no_such_route}
        )

    async def _end_expired_chats(self) -> None:
        """Chats end when their ChatDurationInMinutes runs out, checked every
        EXPIRY_SWEEP_SECONDS."""
        while True:
            await asyncio.sleep(EXPIRY_SWEEP_SECONDS)
            self.model.end_expired()

    def start(self) -> LocalConnect:
        """Serve; `CannotListen` when its host and port cannot be had."""
        listeners = listening_sockets(self._host, self._port)
        self._port = listeners[0].getsockname()[1]
        config = uvicorn.Config(
            self.build_app(),
            ws="websockets-sansio",
            # Amazon Connect's participant sockets send no WebSocket pings (clients keep them alive with
            # aws/heartbeat); uvicorn's own keepalive would close busy sockets that real Connect keeps.
            ws_ping_interval=None,
            ws_ping_timeout=None,
            log_level="warning",
            log_config=None,  # its lines go through the service's own handler (logs/)
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=2,
        )
        self._served = ServerThread(config, "connect-local", sockets=listeners)
        try:
            self._served.start(START_TIMEOUT_SECONDS)
        except RuntimeError as error:
            self._served = None
            raise RuntimeError(f"the local Amazon Connect did not start on {self._host}:{self._port}: {error}") from None
        return self

    def stop(self) -> None:
        if self._served is None:
            return
        self._served.stop(timeout=START_TIMEOUT_SECONDS)
        self._served = None

    def __enter__(self) -> LocalConnect:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self.stop()


async def _no_such_route(request: Request, error: HTTPException) -> JSONResponse:
    """A path no route serves, or a method it does not take, in the JSON error shape of the APIs here
    (`{"message"}`), not Starlette's plain text."""
    what = "no route here takes" if error.status_code == 405 else "no route here serves"
    return JSONResponse(
        {"message": f"{what} {request.method} {request.url.path}"}, status_code=error.status_code, headers=error.headers
    )
