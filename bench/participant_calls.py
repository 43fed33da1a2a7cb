"""CPU per participant call, boto3's `connectparticipant` client against the service's own transport
(connect_client/participant_http.py), one thread, run by hand:

    .venv/bin/python bench/participant_calls.py [--chats 300] [--rounds 3]

The local Amazon Connect runs in a process of its own (so its CPU is not counted); this process
starts `--chats` chats, then for each round measures, in turns (boto3 first in odd rounds, ours
first in even ones), this thread's CPU (`time.thread_time`) and the wall time of:

- reconnect: CreateParticipantConnection + GetTranscript for every chat (what recovery makes per
  conversation; the bare baseline of bench/load.py's recovery is the same two boto3 calls);
- send: one SendMessage to every chat, each with a new client token.

"boto3" is bench/loadkit/bare.py's client (the bare baseline's own); "ours" is `RegionClients.create`'s
`participant` (typed answers, errors translated, each call recorded in the region's health).
It prints one line per measurement and the median per call of each.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.loadkit import bare  # noqa: E402
from bench.loadkit.processes import start_connect_local  # noqa: E402
from connect_client import RegionClients, static_session  # noqa: E402


def measured(calls: Callable[[], int]) -> tuple[float, float, int]:
    """(CPU seconds of this thread, wall seconds, calls made)."""
    cpu, wall = time.thread_time(), time.perf_counter()
    made = calls()
    return time.thread_time() - cpu, time.perf_counter() - wall, made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="participant-calls-") as folder:
        child, connect = start_connect_local(Path(folder), args.chats)
        try:
            run(connect, args.chats, args.rounds)
        finally:
            child.stop()


def run(connect: dict[str, Any], count: int, rounds: int) -> None:
    chats = bare.start_chats(connect, count)
    _, boto = bare.clients(connect)
    ours = RegionClients.create(connect["region"], endpoint_url=connect["endpoint_url"], session=static_session()).participant

    def boto_reconnect() -> int:
        for chat in chats:
            answer = boto.create_participant_connection(
                Type=["WEBSOCKET", "CONNECTION_CREDENTIALS"], ParticipantToken=chat.participant_token, ConnectParticipant=True
            )
            token = answer["ConnectionCredentials"]["ConnectionToken"]
            boto.get_transcript(ConnectionToken=token, MaxResults=100, ScanDirection="FORWARD", SortOrder="ASCENDING")
        return len(chats)

    def ours_reconnect() -> int:
        for chat in chats:
            ours.transcript_after(ours.connect(chat.participant_token).connection_token)
        return len(chats)

    def boto_send() -> int:
        for chat in chats:
            boto.send_message(ConnectionToken=chat.connection_token, ContentType="text/plain", Content="hello", ClientToken=str(uuid.uuid4()))
        return len(chats)

    def ours_send() -> int:
        for chat in chats:
            ours.send_message(chat.connection_token, "hello", client_token=str(uuid.uuid4()))
        return len(chats)

    kinds = {"reconnect": {"boto3": boto_reconnect, "ours": ours_reconnect}, "send": {"boto3": boto_send, "ours": ours_send}}
    per_call: dict[tuple[str, str], list[float]] = {}
    # One unmeasured pass of each warms both (connections, imports, caches).
    for calls in (boto_reconnect, ours_reconnect, boto_send, ours_send):
        calls()
    for round_number in range(1, rounds + 1):
        order = ["boto3", "ours"] if round_number % 2 else ["ours", "boto3"]
        for kind, by_client in kinds.items():
            for client in order:
                cpu, wall, made = measured(by_client[client])
                per_call.setdefault((kind, client), []).append(cpu / made)
                print(f"round {round_number} {kind:9} {client:5} CPU {cpu / made * 1000:.3f} ms a call, "
                      f"wall {wall / made * 1000:.3f} ms ({made} calls)", flush=True)
    for kind in kinds:
        boto_ms = statistics.median(per_call[(kind, "boto3")]) * 1000
        ours_ms = statistics.median(per_call[(kind, "ours")]) * 1000
        print(f"{kind:9} median CPU a call: boto3 {boto_ms:.3f} ms, ours {ours_ms:.3f} ms ({ours_ms / boto_ms:.2f} of boto3's)")


if __name__ == "__main__":
    main()
