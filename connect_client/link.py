"""One open participant WebSocket (websocket-client), with the failures of the
network turned into one exception, `LinkFailed`, whose reason names no URL
(the URL carries the socket's credential)."""

from __future__ import annotations

import socket
import ssl

import websocket

from connect_client.records import ParticipantConnection

# A timeout of zero would make the socket non-blocking; wait at least this long.
_SHORTEST_WAIT_SECONDS = 0.001


class LinkFailed(Exception):
    """The socket could not be opened, was closed, or broke."""


class Link:
    """A WebSocket opened on a connection's URL (blocking, on a pool thread), then read by the
    hub when `socket` is readable: `receive(0)` returns a whole frame or None, and a frame that
    arrived in parts is picked up where it stopped (websocket-client keeps the partial frame)."""

    def __init__(self, connection: ParticipantConnection, open_timeout: float) -> None:
        self.connection = connection
        # When its owner should replace it (seconds since the epoch).
        self.renew_at = float("inf")
        self.renew_failures = 0
        self.closed = False
        try:
            self._ws = websocket.create_connection(
                connection.websocket_url, timeout=open_timeout, skip_utf8_validation=True, enable_multithread=True
            )
        except (OSError, websocket.WebSocketException) as error:
            raise LinkFailed(f"could not open the socket: {_describe(error)}") from None

    @property
    def socket(self) -> socket.socket:
        return self._ws.sock

    def pending(self) -> int:
        """Bytes TLS has already decrypted that the socket's readiness does not show."""
        sock = self._ws.sock
        return sock.pending() if isinstance(sock, ssl.SSLSocket) else 0

    def send(self, text: str) -> None:
        try:
            self._ws.send(text)
        except (OSError, websocket.WebSocketException) as error:
            raise LinkFailed(f"send failed: {_describe(error)}") from None

    def receive(self, timeout: float) -> str | None:
        """The next text frame, or None when none came within `timeout` seconds."""
        self._ws.settimeout(max(timeout, _SHORTEST_WAIT_SECONDS))
        try:
            opcode, data = self._ws.recv_data()
        except websocket.WebSocketTimeoutException:
            return None
        except (OSError, websocket.WebSocketException) as error:
            raise LinkFailed(f"the socket broke: {_describe(error)}") from None
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            code = int.from_bytes(data[:2], "big") if len(data) >= 2 else None
            raise LinkFailed(f"closed by the server (code {code})")
        if opcode != websocket.ABNF.OPCODE_TEXT:
            return ""
        return data.decode("utf-8", "replace")

    def close(self) -> None:
        """Say goodbye without waiting for the server's answer, and let go of the socket."""
        if self.closed:
            return
        self.closed = True
        try:
            self._ws.send_close()
        except (OSError, websocket.WebSocketException):
            pass
        self._ws.shutdown()


def _describe(error: BaseException) -> str:
    status = getattr(error, "status_code", None)
    return type(error).__name__ + (f" {status}" if status else "")
