"""The API and the local Amazon Connect are served by uvicorn with httptools' parser on uvloop's event loop
(both dependencies, chosen by uvicorn's "auto"), not h11 on asyncio: a quarter of the service's CPU was the
HTTP stack on the event loop. Checked on what serves a real request, not on the configuration."""

from __future__ import annotations

import asyncio
import json
import urllib.request

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from api import ApiServer
from connect_local import LocalConnect


async def _what_serves_me(request: Request) -> JSONResponse:
    """The module of the running loop, and the file of the coroutine uvicorn runs this request in (its
    HTTP protocol's request cycle: uvicorn/protocols/http/httptools_impl.py or h11_impl.py)."""
    task = asyncio.current_task()
    assert task is not None
    return JSONResponse(
        {"loop": type(asyncio.get_running_loop()).__module__, "cycle": task.get_coro().cr_code.co_filename}
    )


def test_the_api_server_answers_with_httptools_on_uvloop() -> None:
    server = ApiServer(Starlette(routes=[Route("/serving", _what_serves_me)])).start()
    try:
        with urllib.request.urlopen(server.url + "/serving", timeout=10) as answer:
            serving = json.loads(answer.read())
    finally:
        server.stop()
    assert serving["loop"].startswith("uvloop")
    assert serving["cycle"].endswith("httptools_impl.py")


def test_the_local_connect_runs_on_uvloop(server: LocalConnect) -> None:
    """Its WebSockets (websockets' sans-I/O protocol) and the scheduler's thread hand-offs run on that loop;
    the rest of tests/connect_local exercises them there."""
    assert type(server.scheduler.loop).__module__.startswith("uvloop")
