"""One open participant WebSocket (websocket-client), with the failures of the
network turned into one exception, `LinkFailed`, whose reason names no URL
(the URL carries the socket's credential).

websocket-client reads the handshake's answer one byte at a time (`recv_line`: about 180 reads of
one byte a socket, each a system call or a TLS read that lets go of the GIL); a recovery opens
thousands of sockets at once, and those reads were 5 % of its CPU. So the socket is opened by
websocket-client's own connect (its TLS, proxies and socket options), then handed to it for the
handshake behind `_ReadAhead`, which reads what has arrived in one call and serves it from memory,
saying its timeout is zero while it does: websocket-client then reads each byte at once instead of
through its wait for the network (a closure and a try a byte; 400 to 200 us of CPU a handshake).
Once the handshake is done, websocket-client reads the plain socket again, unless the server's
first frame came with the handshake's answer (then the read-ahead stays, and `pending` counts it).
"""

from __future__ import annotations

import socket
import ssl

import websocket
from websocket._http import connect as open_stream, proxy_info
from websocket._socket import sock_opt

from connect_client.records import ParticipantConnection

# A timeout of zero would make the socket non-blocking; wait at least this long.
_SHORTEST_WAIT_SECONDS = 0.001
# How much one read of the handshake's answer asks for (the answer is about 200 bytes).
_READ_AHEAD_BYTES = 4096


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
        self._timeout: float | None = None  # the socket's as `receive` last set it
        try:
            self._ws = _open(connection.websocket_url, open_timeout)
        except (OSError, websocket.WebSocketException) as error:
            raise LinkFailed(f"could not open the socket: {_describe(error)}") from None

    @property
    def socket(self) -> socket.socket:
        return self._ws.sock

    def pending(self) -> int:
        """Bytes already read (TLS's decrypted ones, or the handshake's read-ahead) that the socket's
        readiness does not show."""
        return _pending(self._ws.sock)

    def send(self, text: str) -> None:
        try:
            self._ws.send(text)
        except (OSError, websocket.WebSocketException) as error:
            raise LinkFailed(f"send failed: {_describe(error)}") from None

    def receive(self, timeout: float) -> str | None:
        """The next text frame, or None when none came within `timeout` seconds."""
        timeout = max(timeout, _SHORTEST_WAIT_SECONDS)
        if timeout != self._timeout:  # the hub reads every frame with the same one: a system call saved each
            self._ws.settimeout(timeout)
            self._timeout = timeout
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


def _open(url: str, timeout: float) -> websocket.WebSocket:
    """The WebSocket on `url`, its handshake's answer read ahead (above)."""
    options = sock_opt(None, None)
    options.timeout = timeout
    stream, _ = open_stream(url, options, proxy_info(), None)
    reader = _ReadAhead(stream)
    try:
        ws = websocket.create_connection(
            url, timeout=timeout, socket=reader, skip_utf8_validation=True, enable_multithread=True
        )
    except BaseException:
        stream.close()
        raise
    if not reader.buffered():
        ws.sock = stream
    return ws


class _ReadAhead:
    """A socket whose reads ask for at least `_READ_AHEAD_BYTES` and keep what the caller did not
    take for its next reads; everything else is the socket's."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._buffer = b""
        self._offset = 0

    def recv(self, size: int) -> bytes:
        if self._offset >= len(self._buffer):
            self._buffer, self._offset = self._sock.recv(max(size, _READ_AHEAD_BYTES)), 0
        data = self._buffer[self._offset : self._offset + size]
        self._offset += len(data)
        return data

    def gettimeout(self) -> float | None:
        """Zero while a read is served from memory: websocket-client then reads at once, without its
        wait for a socket that is not readable yet (a closure and a try a byte); the socket's own
        timeout once the buffer is empty, so a read that must wait for the network waits as before."""
        return 0.0 if self._offset < len(self._buffer) else self._sock.gettimeout()

    def buffered(self) -> int:
        return len(self._buffer) - self._offset

    def pending(self) -> int:
        return self.buffered() + _pending(self._sock)

    def __getattr__(self, name: str) -> object:
        return getattr(self._sock, name)


def _pending(sock: object) -> int:
    if isinstance(sock, _ReadAhead):
        return sock.pending()
    return sock.pending() if isinstance(sock, ssl.SSLSocket) else 0


def _describe(error: BaseException) -> str:
    status = getattr(error, "status_code", None)
    return type(error).__name__ + (f" {status}" if status else "")
