"""The participant WebSocket, as Amazon Connect's clients see it.

The URL that CreateParticipantConnection hands out is
`ws://127.0.0.1:PORT/?X-Amz-Security-Token=KEY`: the key in the URL is the
socket's only credential. Once open, a client sends
`{"topic":"aws/subscribe","content":{"topics":["aws/chat"]}}` and then gets
every item of its chat as an `aws/chat` frame whose `content` is the item as
a JSON string. `aws/heartbeat` is echoed and `aws/ping` answered with
`statusCode` 200. The server closes a socket when its connection expires,
after it has delivered `chat.ended`, when the chat's region goes down, and
when asked to drop it.
"""

from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import dataclass, field
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from connect_local.errors import AccessDenied
from connect_local.faults import Faults
from connect_local.model import CHAT_ENDED, ChatModel, Contact, Item
from connect_local.scheduler import Scheduler

SOCKET_KEY_PARAMETER = "X-Amz-Security-Token"
CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001
CLOSE_POLICY = 1008


@dataclass(frozen=True)
class _Close:
    code: int
    reason: str


@dataclass(eq=False)
class _Socket:
    contact_id: str
    region: str
    socket_key: str
    outbox: asyncio.Queue[dict[str, Any] | _Close] = field(default_factory=asyncio.Queue)
    subscribed: bool = False


def chat_frame(item: Item) -> dict[str, Any]:
    return {"topic": "aws/chat", "contentType": "application/json", "content": json.dumps(item.to_wire())}


class SocketHub:
    """Every open participant socket, and the frames on their way to them."""

    def __init__(self, model: ChatModel, faults: Faults, scheduler: Scheduler) -> None:
        self._model = model
        self._faults = faults
        self._scheduler = scheduler
        self._lock = threading.Lock()
        self._sockets: set[_Socket] = set()
        # The same sockets by chat: an item reaches its chat's sockets without a look at every socket
        # (at 9,000 sockets that scan took a quarter of the local Connect's CPU).
        self._by_contact: dict[str, set[_Socket]] = {}
        model.on_item(self._deliver)

    def open_count(self, contact_id: str | None = None) -> int:
        with self._lock:
            return len(self._sockets if contact_id is None else self._by_contact.get(contact_id, ()))

    def _deliver(self, contact: Contact, item: Item) -> None:
        frame = chat_frame(item)
        with self._lock:
            targets = list(self._by_contact.get(contact.id, ()))
        for socket in targets:
            if socket.subscribed:
                self._send(socket, frame)
            if item.content_type == CHAT_ENDED:
                self._send(socket, _Close(CLOSE_NORMAL, "chat ended"))

    def _send(self, socket: _Socket, message: dict[str, Any] | _Close) -> None:
        self._scheduler.loop.call_soon_threadsafe(socket.outbox.put_nowait, message)

    def drop(self, contact_id: str | None = None, *, region: str | None = None, keys: list[str] | None = None) -> int:
        """Close sockets (all, or one chat's, one region's, or these URL keys)."""
        with self._lock:
            chosen = [
                s for s in self._sockets
                if contact_id in (None, s.contact_id)
                and (keys is None or s.socket_key in keys)
                and region in (None, s.region)
            ]
        for socket in chosen:
            self._send(socket, _Close(CLOSE_GOING_AWAY, "dropped by the server"))
        return len(chosen)

    async def serve(self, websocket: WebSocket) -> None:
        try:
            connection = self._model.socket_connection(websocket.query_params.get(SOCKET_KEY_PARAMETER, ""))
        except AccessDenied:
            await websocket.close(code=CLOSE_POLICY)
            return
        contact = self._model.contact(connection.contact_id)
        if self._faults.region_down(contact.region):
            await websocket.close(code=CLOSE_POLICY)
            return
        await websocket.accept()
        socket = _Socket(contact.id, contact.region, connection.socket_key)
        with self._lock:
            self._sockets.add(socket)
            self._by_contact.setdefault(socket.contact_id, set()).add(socket)
        loop = asyncio.get_running_loop()
        expiry = loop.call_later(
            max(0.0, connection.socket_expires_at - self._model.now()),
            socket.outbox.put_nowait,
            _Close(CLOSE_NORMAL, "connection expired"),
        )
        reader = asyncio.create_task(self._read(websocket, socket))
        try:
            await self._write(websocket, socket, reader)
        finally:
            expiry.cancel()
            reader.cancel()
            with self._lock:
                self._sockets.discard(socket)
                chat = self._by_contact.get(socket.contact_id, set())
                chat.discard(socket)
                if not chat:
                    self._by_contact.pop(socket.contact_id, None)

    async def _write(self, websocket: WebSocket, socket: _Socket, reader: asyncio.Task[None]) -> None:
        while True:
            getter = asyncio.ensure_future(socket.outbox.get())
            done, _ = await asyncio.wait({getter, reader}, return_when=asyncio.FIRST_COMPLETED)
            if getter not in done:
                getter.cancel()
                return
            message = getter.result()
            try:
                if isinstance(message, _Close):
                    await websocket.close(code=message.code, reason=message.reason)
                    return
                await websocket.send_text(json.dumps(message))
            except (RuntimeError, WebSocketDisconnect, OSError):
                return

    async def _read(self, websocket: WebSocket, socket: _Socket) -> None:
        try:
            while True:
                text = await websocket.receive_text()
                answer = self._answer(socket, text)
                if answer is not None:
                    socket.outbox.put_nowait(answer)
        except (WebSocketDisconnect, RuntimeError, KeyError):
            # KeyError: a binary frame, which no chat client sends; ending the
            # reader ends the socket.
            return

    def _answer(self, socket: _Socket, text: str) -> dict[str, Any] | None:
        try:
            frame = json.loads(text)
        except ValueError:
            return None
        topic = frame.get("topic") if isinstance(frame, dict) else None
        if topic == "aws/heartbeat":
            return {"topic": "aws/heartbeat"}
        if topic == "aws/ping":
            return {"topic": "aws/ping", "statusCode": 200}
        if topic in ("aws/subscribe", "aws/unsubscribe"):
            content = frame.get("content")
            topics = content.get("topics") if isinstance(content, dict) else None
            if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
                return {"topic": topic, "content": {"status": "failure", "topics": []}}
            if "aws/chat" in topics:
                socket.subscribed = topic == "aws/subscribe"
            return {"topic": topic, "content": {"status": "success", "topics": topics}}
        return None
