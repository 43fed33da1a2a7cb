"""The service's health for load balancers and systemd, served without a token.

- `GET /healthz`: the process is up and serving HTTP: always 200 `{"Status": "ok"}` while it answers.
- `GET /readyz`: 200 `{"Status": "ready"}` while the event store takes a write (service/readiness.py;
  recovery after a start does not hold it back: the bots' routes serve meanwhile); else 503
  `{"Code": "not_ready", "Message": why}`, with `Retry-After`.

Neither needs a token: a load balancer's or systemd's probe has none, and neither says anything a
caller could use: no conversation, client, worker, path, version or figure; the reason for 503 is one
of a few fixed phrases and SQLite's words for a failed write ("database or disk is full").
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.errors import error_response
from service.readiness import Readiness

RETRY_AFTER_SECONDS = 1
_OK = b'{"Status":"ok"}'
_READY = b'{"Status":"ready"}'


def health_routes(readiness: Readiness | None) -> list[Route]:
    """`readiness` None: an app built without a running service (tests of the API alone) is always ready."""

    async def healthz(request: Request) -> Response:
        return Response(_OK, media_type="application/json", headers={"Cache-Control": "no-store"})

    async def readyz(request: Request) -> Response:
        problem = None if readiness is None else await run_in_threadpool(readiness.problem)
        if problem is not None:
            return error_response(
                503, "not_ready", problem, {"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"}
            )
        return Response(_READY, media_type="application/json", headers={"Cache-Control": "no-store"})

    return [Route("/healthz", healthz, methods=["GET"]), Route("/readyz", readyz, methods=["GET"])]
