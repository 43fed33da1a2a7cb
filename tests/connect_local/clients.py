"""The clients the tests drive the local Amazon Connect with, as a real
integration would: boto3 for `connect`, `connectparticipant` and `translate`,
websocket-client for the participant socket, urllib for the agent and admin
APIs. Waiting is always on a condition with a deadline, never a sleep."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import boto3
import websocket
from botocore.config import Config as BotoConfig

from connect_local import LocalConnect

SUBSCRIBE = {"topic": "aws/subscribe", "content": {"topics": ["aws/chat"]}}
EVENT = "application/vnd.amazonaws.connect.event."
WAIT_SECONDS = 5.0
# botocore reads `max_attempts` as retries after the first call;
# `total_max_attempts` counts every call, so 1 means no retry at all.
NO_RETRIES = BotoConfig(retries={"total_max_attempts": 1, "mode": "standard"})
# One session for every test: it caches the service models, which makes
# creating a client cheap.
_SESSION = boto3.session.Session()


def boto_client(service: str, server: LocalConnect, region: str = "us-east-1", config: BotoConfig = NO_RETRIES) -> Any:
    return _SESSION.client(
        service,
        endpoint_url=server.endpoint_url,
        region_name=region,
        aws_access_key_id="AKIDLOCAL",
        aws_secret_access_key="local-secret",
        config=config,
    )


@dataclass
class Socket:
    """A participant WebSocket and every chat item it has received."""

    ws: websocket.WebSocket
    items: list[dict[str, Any]] = field(default_factory=list)
    others: list[dict[str, Any]] = field(default_factory=list)

    def send(self, frame: dict[str, Any]) -> None:
        self.ws.send(json.dumps(frame))

    def next_frame(self) -> dict[str, Any]:
        """The next frame; chat items are decoded and remembered in `items`."""
        frame = json.loads(self.ws.recv())
        if frame.get("topic") == "aws/chat":
            assert isinstance(frame["content"], str), "chat frame content must be a JSON string"
            self.items.append(json.loads(frame["content"]))
        else:
            self.others.append(frame)
        return frame

    def subscribe(self) -> dict[str, Any]:
        self.send(SUBSCRIBE)
        return self.wait_frame(lambda f: f.get("topic") == "aws/subscribe")

    def wait_frame(self, matches: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        while True:
            frame = self.next_frame()
            if matches(frame):
                return frame

    def wait_item(self, matches: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        """The first chat item already received or arriving that matches."""
        for item in self.items:
            if matches(item):
                return item
        while True:
            frame = self.next_frame()
            if frame.get("topic") == "aws/chat" and matches(self.items[-1]):
                return self.items[-1]

    def wait_closed(self) -> int | None:
        """Read until the server closes the socket; its close code."""
        while True:
            try:
                opcode, data = self.ws.recv_data(control_frame=True)
            except (websocket.WebSocketConnectionClosedException, ConnectionError):
                return None
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                return int.from_bytes(data[:2], "big") if len(data) >= 2 else None
            if opcode == websocket.ABNF.OPCODE_TEXT:
                frame = json.loads(data)
                if frame.get("topic") == "aws/chat":
                    self.items.append(json.loads(frame["content"]))

    def close(self) -> None:
        self.ws.close()


def wait_until(condition: Callable[[], bool], seconds: float = WAIT_SECONDS) -> bool:
    """Poll `condition` until it holds or the deadline passes; its last value."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
    return True


def is_message(text: str, role: str | None = None) -> Callable[[dict[str, Any]], bool]:
    return lambda item: item["Type"] == "MESSAGE" and item.get("Content") == text and role in (None, item["ParticipantRole"])


def is_event(name: str, role: str | None = None) -> Callable[[dict[str, Any]], bool]:
    return lambda item: item["ContentType"] == EVENT + name and role in (None, item["ParticipantRole"])


@dataclass
class Chat:
    """The customer's side of one chat."""

    clients: Clients
    contact_id: str
    participant_id: str
    participant_token: str
    connection_token: str = ""
    socket: Socket | None = None

    def connect(self, subscribe: bool = True) -> Socket:
        answer = self.clients.participant.create_participant_connection(
            Type=["WEBSOCKET", "CONNECTION_CREDENTIALS"], ParticipantToken=self.participant_token, ConnectParticipant=True
        )
        self.connection_token = answer["ConnectionCredentials"]["ConnectionToken"]
        self.socket = self.clients.open_socket(answer["Websocket"]["Url"])
        if subscribe:
            self.socket.subscribe()
        return self.socket

    def send(self, text: str, **extra: Any) -> dict[str, Any]:
        return self.clients.participant.send_message(
            ConnectionToken=self.connection_token, ContentType="text/plain", Content=text, **extra
        )

    def transcript(self, **query: Any) -> dict[str, Any]:
        return self.clients.participant.get_transcript(ConnectionToken=self.connection_token, **query)


class Clients:
    """boto3 clients for one region of a server, and its HTTP APIs."""

    def __init__(self, server: LocalConnect, region: str = "us-east-1") -> None:
        self.server = server
        self.region = region
        self.connect = boto_client("connect", server, region)
        self.participant = boto_client("connectparticipant", server, region)
        self.translate = boto_client("translate", server, region)
        self._sockets: list[Socket] = []

    def start_chat(self, name: str = "Bob", instance_id: str | None = None, flow_id: str | None = None, **extra: Any) -> Chat:
        info = self.server.ready_info()
        answer = self.connect.start_chat_contact(
            InstanceId=instance_id or info["instance_id"],
            ContactFlowId=flow_id or info["contact_flow_id"],
            ParticipantDetails={"DisplayName": name},
            **extra,
        )
        return Chat(self, answer["ContactId"], answer["ParticipantId"], answer["ParticipantToken"])

    def open_socket(self, url: str) -> Socket:
        socket = Socket(websocket.create_connection(url, timeout=WAIT_SECONDS))
        self._sockets.append(socket)
        return socket

    def http(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
        """A JSON call to the agent or admin API: (status, decoded body)."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.server.endpoint_url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=WAIT_SECONDS) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")

    def __enter__(self) -> Clients:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        for socket in self._sockets:
            socket.close()
