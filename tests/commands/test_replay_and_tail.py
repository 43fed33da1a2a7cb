"""`run.py replay` and `run.py events tail`: the history as recovery folds it, tokens redacted."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import run
from tests.connectors.seeds import TRANSLATE_FILE
from tests.workers.test_worker_config import valid_worker
from commands.closed_pipe import CLOSED_PIPE_EXIT
from events import encode, event_type
from events.commands import ParticipantLeftReceived
from store import EventStore, NewEvent
from store.conversations import conversation_stream, load_conversation
from store.workers import WorkerRegistry
from tests.events.scenario import TOKEN, Run, worker_config
from tests.support.processes import REPO, start_run_py


def stored_conversation(db: Path, conversation_id: str = "conv-1") -> Run:
    """A conversation that was transferred, met Ana, heard from her, and ended when she left."""
    conversation = Run(conversation_id).connected().with_agent("Ana")
    conversation.agent_says("Hello, how can I help?", at=3.0)
    conversation(ParticipantLeftReceived(at=4.0, message_id="left-1", role="AGENT", display_name="Ana"))
    with EventStore.open(db) as store:
        store.append(
            conversation_stream(conversation_id),
            [NewEvent(event_type(event), encode(event)) for event in conversation.events],
            expected_version=0,
        )
    return conversation


def test_replay_prints_every_event_with_the_state_after_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "events.db"
    conversation = stored_conversation(db)
    assert run.main(["replay", "conv-1", "--db", str(db), "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["event"]["type"] for line in lines] == [event_type(event) for event in conversation.events]
    assert [line["seq"] for line in lines] == list(range(1, len(conversation.events) + 1))
    assert lines[-1]["state"]["phase"] == conversation.state.phase
    assert lines[-1]["state"]["last_known_agent"] == "Ana"


def test_replay_folds_to_the_state_the_live_run_ended_with(tmp_path: Path) -> None:
    db = tmp_path / "events.db"
    conversation = stored_conversation(db)
    with EventStore.open(db) as store:
        assert load_conversation(store, "conv-1") == conversation.state


def test_replay_until_stops_at_that_sequence(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "events.db"
    stored_conversation(db)
    assert run.main(["replay", "conv-1", "--until", "2", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert [line.split()[0] for line in out.splitlines() if line.startswith("#")] == ["#1", "#2"]


def test_replay_never_prints_the_participant_token(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "events.db"
    stored_conversation(db)
    run.main(["replay", "conv-1", "--db", str(db)])
    run.main(["replay", "conv-1", "--db", str(db), "--json"])
    out = capsys.readouterr().out
    assert "ChatStarted" in out and "<redacted>" in out
    assert TOKEN not in out


def test_replay_of_an_unknown_conversation_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "events.db"
    stored_conversation(db)
    assert run.main(["replay", "nobody", "--db", str(db)]) == 1
    assert "no events for conversation 'nobody'" in capsys.readouterr().err


def test_replay_of_a_missing_database_does_not_create_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "missing.db"
    assert run.main(["replay", "conv-1", "--db", str(db)]) == 2
    assert "no event store at" in capsys.readouterr().err
    assert not db.exists()


def test_replay_of_an_event_from_the_future_names_the_event(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "events.db"
    conversation = stored_conversation(db)
    stream = conversation_stream("conv-1")
    with EventStore.open(db) as store:
        future = NewEvent("AgentMessageReceived", b'{"type":"AgentMessageReceived","v":99,"at":5.0}')
        store.append(stream, [future], expected_version=store.stream_version(stream))
    code = run.main(["replay", "conv-1", "--db", str(db)])
    err = capsys.readouterr().err
    assert code == 2
    assert f"event {len(conversation.events) + 1}:" in err and "99" in err


def test_tail_prints_the_last_events_redacted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "events.db"
    conversation = stored_conversation(db)
    assert run.main(["events", "tail", "--last", "3", "--db", str(db)]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["event"]["type"] for line in lines] == [event_type(e) for e in conversation.events[-3:]]
    assert [line["stream"] for line in lines] == [conversation_stream("conv-1")] * 3


def test_tail_reads_every_kind_of_stream(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "events.db")
    worker = tmp_path / "worker.json"
    worker.write_text(json.dumps(valid_worker()))
    assert run.main(["worker", "create", str(worker), "--db", db]) == 0
    worker_id = capsys.readouterr().out.strip()
    assert run.main(["content", "put", worker_id, "welcome", "--text", "Hi {{name}}", "--db", db]) == 0
    assert run.main(["connector", "create", str(TRANSLATE_FILE), "--db", db]) == 0
    capsys.readouterr()
    assert run.main(["events", "tail", "--last", "3", "--db", db]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["event"]["type"] for line in lines] == ["WorkerCreated", "ContentPut", "ConnectorCreated"]


def test_tail_follow_prints_events_as_they_land(tmp_path: Path) -> None:
    db = tmp_path / "events.db"
    with EventStore.open(db):
        pass
    process = start_run_py("events", "tail", "--follow", "--db", str(db))
    try:
        conversation = stored_conversation(db, "conv-late")
        assert process.stdout is not None
        first = json.loads(process.stdout.readline())
        assert first["stream"] == conversation_stream("conv-late") and first["seq"] == 1
        seen = [first] + [json.loads(process.stdout.readline()) for _ in conversation.events[1:]]
        assert [line["seq"] for line in seen] == list(range(1, len(conversation.events) + 1))
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=20)
    assert TOKEN not in output


def buffered_child_env() -> dict[str, str]:
    """run.py's environment with stdout block-buffered, as usual: the last flush, at exit, must not fail either."""
    return {**{k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}, "PYTHONPATH": str(REPO)}


def talkative_conversation(db: Path, messages: int = 300) -> None:
    """A conversation whose replay prints far more than a pipe holds (64 KiB on Linux)."""
    conversation = Run("chatty").connected().with_agent("Ana")
    for n in range(messages):
        conversation.agent_says(f"message {n}: " + "la " * 300, at=3.0 + n)
    with EventStore.open(db) as store:
        store.append(
            conversation_stream("chatty"),
            [NewEvent(event_type(event), encode(event)) for event in conversation.events],
            expected_version=0,
        )


def test_replay_into_head_stops_quietly_when_head_has_its_line(tmp_path: Path) -> None:
    """`run.py replay chatty --json | head -1`, a real pipe that head closes after its first line."""
    db = tmp_path / "events.db"
    talkative_conversation(db)
    replay = subprocess.Popen(
        [sys.executable, "run.py", "replay", "chatty", "--json", "--db", str(db)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=buffered_child_env(),
    )
    head = subprocess.Popen(["head", "-1"], stdin=replay.stdout, stdout=subprocess.PIPE)
    assert replay.stdout is not None and replay.stderr is not None
    replay.stdout.close()  # head holds the only read end now, as in a shell pipeline
    first, _ = head.communicate(timeout=30)
    errors = replay.stderr.read().decode()
    assert replay.wait(timeout=30) == CLOSED_PIPE_EXIT
    assert json.loads(first)["seq"] == 1
    assert errors == ""


@pytest.mark.parametrize(
    "command",
    [["events", "tail", "--last", "1000"], ["worker", "list"], ["replay", "conv-1"]],
    ids=["events tail", "worker list", "replay"],
)
def test_a_command_whose_pipe_is_closed_stops_quietly(tmp_path: Path, command: list[str]) -> None:
    """Every command that prints, its output a pipe whose reader closed before the first line."""
    db = tmp_path / "events.db"
    stored_conversation(db)
    with EventStore.open(db) as store:
        WorkerRegistry(store).create(worker_config(), at=1.0)
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        finished = subprocess.run(
            [sys.executable, "run.py", *command, "--db", str(db)],
            cwd=REPO, stdout=write_end, stderr=subprocess.PIPE, env=buffered_child_env(),
            timeout=30,
        )
    finally:
        os.close(write_end)
    assert finished.stderr.decode() == ""
    assert finished.returncode == CLOSED_PIPE_EXIT
