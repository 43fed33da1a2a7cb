"""Append to an event store forever from several threads, printing each acknowledgement.

Run by test_crash_durability.py, which kills it with SIGKILL at random moments.

    python crash_writer.py DB_PATH THREADS SYNCHRONOUS

Each line printed is `STREAM VERSION`, written only after `append` returned:
every event of STREAM up to VERSION is acknowledged. Event bodies are
`STREAM:SEQ`, so the test can check what it reads back.
"""

import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from store import EventStore, NewEvent  # noqa: E402


def body(stream: str, seq: int) -> bytes:
    return f"{stream}:{seq}".encode()


def append_forever(store: EventStore, stream: str, printing: threading.Lock) -> None:
    version = store.stream_version(stream)
    for n in range(sys.maxsize):
        count = n % 3 + 1
        events = [NewEvent("Tick", body(stream, version + i)) for i in range(1, count + 1)]
        version = store.append(stream, events, version)
        with printing:
            sys.stdout.write(f"{stream} {version}\n")
            sys.stdout.flush()


def main(db_path: str, threads: int, synchronous: str) -> None:
    store = EventStore.open(db_path, synchronous=synchronous)  # type: ignore[arg-type]
    printing = threading.Lock()
    for n in range(threads):
        threading.Thread(
            target=append_forever, args=(store, f"writer-{n}", printing), daemon=True
        ).start()
    threading.Event().wait()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3])
