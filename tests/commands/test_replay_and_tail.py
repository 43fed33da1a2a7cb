"""`run.py replay` and `run.py events tail`: the history as recovery folds it, tokens redacted."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

import run
from events import encode, event_type
from events.commands import ParticipantLeftReceived
from store import EventStore, NewEvent
from store.conversations import conversation_stream, load_conversation
from tests.events.scenario import TOKEN, Run
from tests.support.processes import start_run_py


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
