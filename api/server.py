"""uvicorn serving the API on a thread of its own (net/server_thread.py)."""

from __future__ import annotations

import uvicorn
from starlette.applications import Starlette

from net.server_thread import ServerThread, listening_sockets


class ApiServer:
    def __init__(self, app: Starlette, host: str = "127.0.0.1", port: int = 0) -> None:
        # log_config=None: uvicorn's lines go through the service's own handler (logs/), one JSON object a line.
        self._config = uvicorn.Config(
            app, host=host, port=port, log_level="warning", log_config=None, access_log=False, lifespan="off"
        )
        self._served: ServerThread | None = None
        self.url = ""

    def start(self, timeout: float = 10) -> ApiServer:
        """Serve; `CannotListen` when its host and port cannot be had."""
        listeners = listening_sockets(self._config.host, self._config.port)
        self._served = ServerThread(self._config, "api-server", sockets=listeners)
        host, port = self._served.start(timeout)
        self.url = f"http://{host}:{port}"
        return self

    def stop(self) -> None:
        if self._served is not None:
            self._served.stop(timeout=5)
