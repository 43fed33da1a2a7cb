"""The baselines the service is measured against, on the same local Amazon Connect in the same run:
bare boto3 calls, bare websocket-client sockets and bare urllib3 POSTs, with nothing of ours in between."""

from __future__ import annotations

import gc
import json
import os
import resource
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
import urllib3
import websocket
from botocore.config import Config

from bench.loadkit.driver import ConnectAdmin, paced
from bench.loadkit.processes import usage

SUBSCRIBE = '{"topic":"aws/subscribe","content":{"topics":["aws/chat"]}}'
POOL = 50  # the service's boto3 clients pool 50 connections too
BARE_ANSWER_TYPE = "BareAgentMessage"  # the `Type` of the bare relay's POSTs to the webhook


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
    """A thread per bare socket that notes when each agent message frame arrives, by content, and
    when `webhook_url` is given, POSTs it there as JSON (urllib3, kept-alive connections, as the
    service's `net.post`), as the service hands an agent's message to its bot."""

    def __init__(self, chats: Sequence[BareChat], webhook_url: str | None = None) -> None:
        self.arrivals: dict[str, float] = {}
        self.posted = 0
        self._webhook_url = webhook_url
        self._pool = urllib3.PoolManager(maxsize=8, block=False, retries=False)
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
                if self._webhook_url is not None:
                    self._post(item)
                with self._lock:
                    self.arrivals[item["Content"]] = at
                    self.posted += self._webhook_url is not None

    def _post(self, item: dict[str, Any]) -> None:
        body = {"Id": item["Id"], "ConversationId": "bare", "Type": BARE_ANSWER_TYPE, "Text": item["Content"]}
        answer = self._pool.request(
            "POST", self._webhook_url, body=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, timeout=10
        )
        if answer.status >= 300:
            raise RuntimeError(f"bare webhook POST: {answer.status}")


def relay(connect: dict[str, Any], webhook_url: str, chats_count: int, rate: float, seconds: float, warm_up: float) -> dict[str, Any]:
    """The service's relay done bare, in a process of its own (`bench/load.py bare-relay`): boto3
    SendMessage at `rate` round robin over chats of our own, websocket-client reading the agent's
    answers, each POSTed to `webhook_url`. The latencies both ways in seconds (every one: the caller
    sums them up), when Connect took each answer, and this process's CPU (getrusage,
    user + system, every thread) from the first measured message to the last answer POSTed, over the
    messages relayed (each sent and each answer: two a message, as the service's figure counts them)."""
    chats = start_chats(connect, chats_count)
    for chat in chats:
        open_socket(chat)
    frames = AgentFrames(chats, webhook_url).start()
    _, participant = clients(connect)
    by_key = {str(index): chat for index, chat in enumerate(chats)}

    def send(key: str, text: str) -> None:
        participant.send_message(ConnectionToken=by_key[key].connection_token, ContentType="text/plain", Content=text)

    paced([str(index % len(chats)) for index in range(int(rate * warm_up))], rate, send, label="warm-up")
    keys = [str(index % len(chats)) for index in range(int(rate * seconds))]
    before, began = _cpu_seconds(), time.monotonic()
    sent = paced(keys, rate, send, label="measured")
    replies = {f"You said: {message.text}" for message in sent}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not replies <= frames.arrivals.keys():
        time.sleep(0.01)
    cpu, window = _cpu_seconds() - before, time.monotonic() - began
    times = ConnectAdmin(connect["admin_url"]).message_times([_contact_of(participant, chat) for chat in chats])
    for chat in chats:
        if chat.socket is not None:
            chat.socket.close()
    arrived = frames.arrivals
    relayed = len(sent) + len(replies & arrived.keys())
    return {
        "messages": len(sent),
        "replies_received": len(replies & arrived.keys()),
        "send_to_connect": ([times[("CUSTOMER", m.text)] - m.sent_at for m in sent if ("CUSTOMER", m.text) in times]),
        "agent_to_client": ([arrived[r] - times[("AGENT", r)] for r in replies if r in arrived and ("AGENT", r) in times]),
        # When Connect took each answer (Unix seconds), by its text: the driver, which runs the webhook,
        # times the answer's POST to it from here (`bench/load.py`, "agent_to_webhook").
        "agent_times": {r: times[("AGENT", r)] for r in replies if r in arrived and ("AGENT", r) in times},
        "send_call": ([m.accepted_at - m.sent_at for m in sent]),
        "cpu_s": round(cpu, 3),
        "window_s": round(window, 2),
        "cpu_ms_per_message": round(cpu / max(1, relayed) * 1000, 3),
    }


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime


def _contact_of(participant: Any, chat: BareChat) -> str:
    return participant.get_transcript(ConnectionToken=chat.connection_token, MaxResults=1)["InitialContactId"]


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
