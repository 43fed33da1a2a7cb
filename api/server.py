"""uvicorn serving the API on a thread of its own."""

from __future__ import annotations

import threading

import uvicorn
from starlette.applications import Starlette


class ApiServer:
    def __init__(self, app: Starlette, host: str = "127.0.0.1", port: int = 0) -> None:
        # log_config=None: uvicorn's lines go through the service's own handler (logs/), one JSON object a line.
        config = uvicorn.Config(
            app, host=host, port=port, log_level="warning", log_config=None, access_log=False, lifespan="off"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="api-server", daemon=True)
        self.url = ""

    def start(self, timeout: float = 10) -> ApiServer:
        self._thread.start()
        started = threading.Event()
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the API server did not start")
            started.wait(0.01)
            timeout -= 0.01
            if timeout <= 0:
                raise RuntimeError("the API server did not start in time")
        host, port = self._server.servers[0].sockets[0].getsockname()[:2]
        self.url = f"http://{host}:{port}"
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=5)
