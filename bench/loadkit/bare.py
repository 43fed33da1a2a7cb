"""The baselines the service is measured against, on the same local Amazon Connect in the same run:
bare boto3 calls and bare websocket-client sockets, with nothing of ours in between."""

from __future__ import annotations

import gc
import json
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import websocket
from botocore.config import Config

from bench.loadkit.processes import usage

SUBSCRIBE = '{"topic":"aws/subscribe","content":{"topics":["aws/chat"]}}'
POOL = 50  # the service's boto3 clients pool 50 connections too


def clients(connect: dict[str, Any]) -> tuple[Any, Any]:
    """boto3 `connect` and `connectparticipant` clients for the local Amazon Connect."""
    # As the service's clients: standard retries, 3 calls in all (a pooled connection the
    # server closed after its keep-alive timeout is retried, not a failure).
    config = Config(max_pool_connections=POOL, retries={"total_max_attempts": 3, "mode": "standard"})
    common = dict(
        region_name=connect["region"],
        endpoint_url=connect["endpoint_url"],
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
        config=config,
    )
    return boto3.client("connect", **common), boto3.client("connectparticipant", **common)


@dataclass
class BareChat:
    participant_token: str
    connection_token: str = ""
    websocket_url: str = ""
    socket: websocket.WebSocket | None = None


def start_chats(connect: dict[str, Any], count: int, workers: int = 16) -> list[BareChat]:
    contacts, participant = clients(connect)

    def start(index: int) -> BareChat:
        answer = contacts.start_chat_contact(
            InstanceId=connect["instance_id"],
            ContactFlowId=connect["contact_flow_id"],
            ParticipantDetails={"DisplayName": f"bare-{index}"},
            ClientToken=str(uuid.uuid4()),
        )
        chat = BareChat(answer["ParticipantToken"])
        connection = participant.create_participant_connection(
            Type=["WEBSOCKET", "CONNECTION_CREDENTIALS"], ParticipantToken=chat.participant_token, ConnectParticipant=True
        )
        chat.connection_token = connection["ConnectionCredentials"]["ConnectionToken"]
        chat.websocket_url = connection["Websocket"]["Url"]
        return chat

    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(start, range(count)))


def open_socket(chat: BareChat) -> websocket.WebSocket:
    """Connect and subscribe, waiting for the subscribe answer."""
    socket = websocket.create_connection(chat.websocket_url, timeout=30)
    socket.send(SUBSCRIBE)
    while json.loads(socket.recv()).get("topic") != "aws/subscribe":
        pass
    chat.socket = socket
    return socket


class AgentFrames:
    """A thread per bare socket that notes when each agent message frame arrives, by content."""

    def __init__(self, chats: Sequence[BareChat]) -> None:
        self.arrivals: dict[str, float] = {}
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._read, args=(chat.socket,), daemon=True) for chat in chats]

    def start(self) -> AgentFrames:
        for thread in self._threads:
            thread.start()
        return self

    def _read(self, socket: websocket.WebSocket) -> None:
        socket.settimeout(None)
        while True:
            try:
                text = socket.recv()
            except (websocket.WebSocketException, OSError):
                return
            if not text:
                return  # closed
            at = time.time()
            frame = json.loads(text)
            if frame.get("topic") != "aws/chat":
                continue
            item = json.loads(frame["content"])
            if item.get("Type") == "MESSAGE" and item.get("ParticipantRole") == "AGENT":
                with self._lock:
                    self.arrivals[item["Content"]] = at


def memory_per_socket(connect: dict[str, Any], count: int) -> dict[str, float]:
    """Resident bytes per bare websocket-client connection (connected and subscribed), without and with
    a reading thread each; run in a process of its own (`bench/load.py bare-memory`)."""
    chats = start_chats(connect, count)
    gc.collect()
    before = usage(os.getpid()).rss_bytes
    for chat in chats:
        open_socket(chat)
    gc.collect()
    sockets = usage(os.getpid()).rss_bytes
    frames = AgentFrames(chats).start()
    time.sleep(1.0)  # let every reader thread reach its first recv
    gc.collect()
    threads = usage(os.getpid()).rss_bytes
    del frames
    return {
        "count": count,
        "socket_bytes": (sockets - before) / count,
        "socket_and_thread_bytes": (threads - before) / count,
    }


def participant_tokens(store_path: Path) -> list[str]:
    """The participant token of every chat the service started (read from its log, read-only)."""
    from events import decode
    from events.conversation_events import ChatStarted

    with sqlite3.connect(f"file:{store_path}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT data FROM events WHERE type = 'ChatStarted'").fetchall()
    tokens = []
    for (data,) in rows:
        event = decode(data)
        assert isinstance(event, ChatStarted)
        tokens.append(event.participant_token)
    return tokens


def connect_and_fill(connect: dict[str, Any], tokens: Sequence[str], workers: int = POOL) -> float:
    """Seconds for a CreateParticipantConnection and a GetTranscript (every page) per token,
    `workers` at a time: what resuming a conversation costs at Connect, bare."""
    _, participant = clients(connect)

    def one(token: str) -> None:
        connection = participant.create_participant_connection(
            Type=["WEBSOCKET", "CONNECTION_CREDENTIALS"], ParticipantToken=token, ConnectParticipant=True
        )
        request: dict[str, Any] = {
            "ConnectionToken": connection["ConnectionCredentials"]["ConnectionToken"],
            "MaxResults": 100,
            "ScanDirection": "FORWARD",
            "SortOrder": "ASCENDING",
        }
        while True:
            answer = participant.get_transcript(**request)
            if not answer.get("NextToken"):
                return
            request["NextToken"] = answer["NextToken"]

    began = time.monotonic()
    with ThreadPoolExecutor(workers) as pool:
        for future in [pool.submit(one, token) for token in tokens]:
            future.result()
    return time.monotonic() - began
