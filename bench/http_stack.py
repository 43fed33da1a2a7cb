"""The HTTP server's own CPU per request, run by hand: uvicorn (as the service serves its API) in this process, a client making keep-alive POSTs in another, so that this process's CPU is the server's.

    .venv/bin/python bench/http_stack.py                  # 3,000 POSTs on whatever uvicorn's "auto" picks
    .venv/bin/python bench/http_stack.py --http h11 --loop asyncio   # the pure-Python parser on asyncio

The route reads a small JSON body and answers 202 with a small JSON body, as a bot's message does,
without the service behind it: what is measured is uvicorn's HTTP parsing and its event loop, and
Starlette's routing, the part httptools and uvloop change (README.md, Dependencies). uvicorn is configured as `ApiServer`
(api/server.py) configures it, on a thread of this process.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import threading
import time

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

CLIENT = """
import json, sys, urllib3
http = urllib3.PoolManager()
for index in range(int(sys.argv[2])):
    body = json.dumps({"MessageId": f"m-{index}", "Text": "Where is my order?"})
    answer = http.request("POST", f"{sys.argv[1]}/v1/conversations/c-{index % 100}/messages", body=body,
                          headers={"Content-Type": "application/json", "Authorization": "Bearer load"})
    assert answer.status == 202, answer.status
"""


async def _say(request: Request) -> JSONResponse:
    body = json.loads(await request.body())
    return JSONResponse({"MessageId": body["MessageId"], "Accepted": True}, status_code=202)


def _posts(url: str, count: int) -> None:
    subprocess.run([sys.executable, "-c", CLIENT, url, str(count)], check=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--http", default="auto", help="uvicorn's http: auto, h11, httptools")
    parser.add_argument("--loop", default="auto", help="uvicorn's loop: auto, asyncio, uvloop")
    args = parser.parse_args()
    app = Starlette(routes=[Route("/v1/conversations/{conversation_id}/messages", _say, methods=["POST"])])
    # As ApiServer configures uvicorn (api/server.py), with the parser and the loop asked for.
    config = uvicorn.Config(
        app, port=0, log_level="warning", log_config=None, access_log=False, lifespan="off", http=args.http,
        loop=args.loop,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.01)
    url = "http://127.0.0.1:%d" % server.servers[0].sockets[0].getsockname()[1]
    try:
        _posts(url, 300)  # warm-up: imports, the first connection
        before, began = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        _posts(url, args.requests)
        after, wall = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter() - began
        loop = type(server.servers[0].get_loop()).__module__.split(".")[0]
    finally:
        server.should_exit = True
        thread.join(5)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    print(json.dumps({
        "http": config.http_protocol_class.__name__,
        "loop": loop,
        "requests": args.requests,
        "server_cpu_ms_per_request": round(cpu * 1000 / args.requests, 3),
        "wall_ms_per_request": round(wall * 1000 / args.requests, 3),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
