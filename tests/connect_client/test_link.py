"""A Link's socket: the handshake's answer read ahead, and a frame that came with it not lost."""

from __future__ import annotations

import base64
import hashlib
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

from connect_client.link import Link, _ReadAhead
from connect_client.records import ParticipantConnection

WAIT = 5.0
_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
FIRST_FRAME = '{"topic":"aws/subscribe","content":{"status":"success"}}'


def _text_frame(text: str) -> bytes:
    payload = text.encode()
    assert len(payload) < 126
    return bytes([0x81, len(payload)]) + payload


@contextmanager
def handshake_server(then: bytes) -> Iterator[str]:
    """A server on 127.0.0.1 that answers one WebSocket handshake and sends `then` in the same write
    (a frame that arrives with the answer); its ws:// URL."""
    listener = socket.create_server(("127.0.0.1", 0))
    done = threading.Event()

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            request = b""
            while b"\r\n\r\n" not in request:
                request += conn.recv(4096)
            key = next(
                line.split(":", 1)[1].strip()
                for line in request.decode().split("\r\n")
                if line.lower().startswith("sec-websocket-key:")
            )
            accept = base64.b64encode(hashlib.sha1((key + _GUID).encode()).digest()).decode()
            answer = (
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Accept: {accept}\r\n\r\n"
            )
            conn.sendall(answer.encode() + then)
            done.wait(WAIT)

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    try:
        yield f"ws://127.0.0.1:{listener.getsockname()[1]}/connect"
    finally:
        done.set()
        server.join(WAIT)
        listener.close()


def _connection(url: str) -> ParticipantConnection:
    expiry = datetime.now(timezone.utc) + timedelta(hours=1)
    return ParticipantConnection(
        websocket_url=url, websocket_expiry=expiry, connection_token="connection-token", connection_expiry=expiry
    )


def test_a_frame_that_came_with_the_handshakes_answer_is_pending_and_read() -> None:
    with handshake_server(then=_text_frame(FIRST_FRAME)) as url:
        link = Link(_connection(url), open_timeout=WAIT)
        try:
            assert link.pending() == len(_text_frame(FIRST_FRAME))  # the hub's select would not show it
            assert link.receive(0) == FIRST_FRAME
            assert link.pending() == 0
        finally:
            link.close()


def test_after_the_handshake_the_socket_is_read_directly() -> None:
    with handshake_server(then=b"") as url:
        link = Link(_connection(url), open_timeout=WAIT)
        try:
            assert type(link.socket) is socket.socket
            assert link.pending() == 0
        finally:
            link.close()


class _CountingSocket:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.reads = 0

    def recv(self, size: int) -> bytes:
        self.reads += 1
        data, self.data = self.data[:size], self.data[size:]
        return data


def test_reads_of_one_byte_take_what_has_arrived_in_one_read() -> None:
    answer = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"
    sock = _CountingSocket(answer)
    reader = _ReadAhead(sock)  # type: ignore[arg-type]

    assert b"".join(reader.recv(1) for _ in range(len(answer))) == answer
    assert sock.reads == 1
    assert reader.buffered() == 0


class _TimedSocket(_CountingSocket):
    """A blocking socket with a timeout, counting how often it is asked for it."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.timeouts_asked = 0

    def gettimeout(self) -> float:
        self.timeouts_asked += 1
        return WAIT


def test_websocket_client_reads_the_buffered_answer_without_its_wait_for_the_network() -> None:
    from websocket._http import read_headers

    answer = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
    sock = _TimedSocket(answer)
    reader = _ReadAhead(sock)  # type: ignore[arg-type]

    status, headers, _ = read_headers(reader)

    assert (status, headers["upgrade"]) == (101, "websocket")
    # Only the first byte's read reached the socket, and only it waited as the socket says; the other
    # bytes came from memory (a timeout of zero: websocket-client reads at once, no wait set up).
    assert (sock.reads, sock.timeouts_asked) == (1, 1)
    assert reader.gettimeout() == WAIT  # the buffer empty: a read waits for the network again
