"""`run.py replay` and `run.py events tail`: the history as recovery folds it, tokens redacted."""

from __future__ import annotations

import datetime
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import run
from tests.connectors.seeds import TRANSLATE_FILE
from tests.workers.test_worker_config import valid_worker
from commands.closed_pipe import CLOSED_PIPE_EXIT
from commands.export import exported_state
from events import encode, event_type, redact_state
from events.commands import ParticipantLeftReceived, SwitchRegion
from store import EventStore, NewEvent
from store.conversation_file import ExportedConversation
from store.conversations import conversation_stream, fold, load_conversation
from store.workers import WorkerRegistry
from tests.events.scenario import CONNECTION_TOKEN, FAILOVER, TOKEN, Run, worker_config
from tests.support.processes import REPO, OutputLines, start_run_py


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
    out, err = capsys.readouterr()
    assert code == 2
    assert f"event {len(conversation.events) + 1}:" in err and "99" in err
    assert f"`--until {len(conversation.events)}` shows the events before it" in err
    assert out == ""


def test_tail_prints_the_last_events_redacted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "events.db"
    conversation = stored_conversation(db)
    assert run.main(["events", "tail", "--last", "3", "--db", str(db)]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["event"]["type"] for line in lines] == [event_type(e) for e in conversation.events[-3:]]
    assert [line["stream"] for line in lines] == [conversation_stream("conv-1")] * 3


@pytest.mark.parametrize(("option", "value"), [("--last", "-1"), ("--after", "-5"), ("--last", "ten")])
def test_tail_refuses_a_negative_or_non_numeric_count_naming_the_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str, value: str
) -> None:
    db = tmp_path / "events.db"
    stored_conversation(db)
    with pytest.raises(SystemExit) as exited:
        run.main(["events", "tail", option, value, "--db", str(db)])
    assert exited.value.code == 2
    out, err = capsys.readouterr()
    assert out == "" and f"argument {option}: {value!r} is not a whole number 0 or more" in err, err


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


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_tail_follow_prints_events_as_they_land_and_a_stop_signal_ends_it_cleanly(
    tmp_path: Path, stop_signal: signal.Signals
) -> None:
    db = tmp_path / "events.db"
    with EventStore.open(db):
        pass
    process = start_run_py("events", "tail", "--follow", "--db", str(db))
    output = OutputLines(process)  # a line that never comes fails the test with the child's stacks
    try:
        conversation = stored_conversation(db, "conv-late")
        first = json.loads(output.next())
        assert first["stream"] == conversation_stream("conv-late") and first["seq"] == 1
        seen = [first] + [json.loads(output.next()) for _ in conversation.events[1:]]
        assert [line["seq"] for line in seen] == list(range(1, len(conversation.events) + 1))
    finally:
        printed = output.stop_with(stop_signal)
    assert process.returncode == 0, printed
    assert TOKEN not in printed


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


def test_tail_follow_into_head_stops_when_head_goes_though_no_event_comes(tmp_path: Path) -> None:
    """`run.py events tail --follow | head -1`: head has its line and exits; nothing more is appended."""
    db = tmp_path / "events.db"
    stored_conversation(db)
    tail = subprocess.Popen(
        [sys.executable, "run.py", "events", "tail", "--follow", "--last", "3", "--db", str(db)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=buffered_child_env(),
    )
    head = subprocess.Popen(["head", "-1"], stdin=tail.stdout, stdout=subprocess.PIPE)
    assert tail.stdout is not None and tail.stderr is not None
    tail.stdout.close()
    first, _ = head.communicate(timeout=30)
    try:
        assert tail.wait(timeout=30) == CLOSED_PIPE_EXIT
    finally:
        tail.kill()
    assert json.loads(first)["seq"] == 7
    assert tail.stderr.read().decode() == ""

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


# -- the timeline, --at, and exported files --------------------------------------------------------


def moved_conversation(db: Path, conversation_id: str = "conv-moved") -> Run:
    """A conversation with every kind of token in its log: its chat started (ChatStarted), its socket
    opened (ConnectionOpened), then a failover move left that chat (ChatLeaveRequested)."""
    conversation = Run(conversation_id).connected().with_agent("Ana")
    conversation.agent_says("Let me check your order", at=3.0)
    conversation(SwitchRegion(at=4.0, target=FAILOVER, order=7, mode="move"))
    with EventStore.open(db) as store:
        store.append(
            conversation_stream(conversation_id),
            [NewEvent(event_type(event), encode(event)) for event in conversation.events],
            expected_version=0,
        )
    return conversation


def export(db: Path, conversation_id: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert run.main(["events", "export", conversation_id, "--db", str(db)]) == 0
    return capsys.readouterr().out


def test_replay_shows_a_timeline_of_who_said_what_and_what_changed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "events.db"
    stored_conversation(db)
    assert run.main(["replay", "conv-1", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].startswith("── ") and lines[0].endswith(" UTC ──")
    transferred = next(line for line in lines if "Transferred" in line)
    assert transferred.startswith("#1 ") and "bot Botty" in transferred and "to worker worker-1 in us-east-1" in transferred
    assert lines[lines.index(transferred) + 1].strip() == "→ phase new→starting"
    started = next(line for line in lines if "ChatStarted" in line)
    assert "Connect" in started and "contact contact-1" in started
    assert "phase starting→started · chat contact-1 · pending -ChatStartRequested@2" in lines[lines.index(started) + 1]
    said = next(line for line in lines if "AgentMessageReceived" in line)
    assert "agent Ana" in said and '"Hello, how can I help?"' in said
    assert lines[-1].startswith("state after #9: phase=connected")
    assert TOKEN not in out and CONNECTION_TOKEN not in out


def test_replay_at_a_time_stops_there_with_the_state_as_of_then(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "events.db"
    stored_conversation(db, "early")
    with EventStore.open(db) as store:
        [first] = store.read_stream(conversation_stream("early"))[:1]
    between = datetime.datetime.fromtimestamp(first.recorded_at + 0.0005, datetime.UTC)
    stored = stored_conversation(db, "late")  # written after `between`
    later = datetime.datetime.fromtimestamp(time.time() + 60, datetime.UTC)

    assert run.main(["replay", "late", "--db", str(db), "--at", between.isoformat()]) == 1
    assert "no events for conversation 'late' at or before" in capsys.readouterr().err
    assert run.main(["replay", "late", "--db", str(db), "--at", later.strftime("%Y-%m-%dT%H:%M:%S")]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1].startswith(f"state as of {later.strftime('%Y-%m-%dT%H:%M:%S')}.000+00:00 (after #{len(stored.events)})")


def test_replay_at_refuses_what_is_no_iso_time(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit:
        run.main(["replay", "conv-1", "--db", str(tmp_path / "events.db"), "--at", "yesterday"])
    assert exit.value.code == 2
    assert "'yesterday' is not an ISO 8601 time" in capsys.readouterr().err


def test_an_export_holds_no_token_and_replays_with_no_store_to_the_same_state(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "events.db"
    conversation = moved_conversation(db)
    kinds = {type(event).__name__ for event in conversation.events}
    assert {"ChatStarted", "ConnectionOpened", "ChatLeaveRequested"} <= kinds
    exported = export(db, "conv-moved", capsys)
    assert TOKEN not in exported and CONNECTION_TOKEN not in exported and "<redacted>" in exported
    header, *lines = [json.loads(line) for line in exported.splitlines()]
    assert header["format"] == "connect-worker-conversation" and header["format_version"] == 1
    assert header["conversation_id"] == "conv-moved" and header["events"] == len(conversation.events)
    assert datetime.datetime.fromisoformat(header["exported_at"]).tzinfo is not None
    assert [line["seq"] for line in lines] == list(range(1, len(conversation.events) + 1))
    assert [line["type"] for line in lines] == [event_type(event) for event in conversation.events]

    assert run.main(["replay", "conv-moved", "--db", str(db), "--json"]) == 0
    from_the_store = capsys.readouterr().out
    assert TOKEN not in from_the_store and CONNECTION_TOKEN not in from_the_store  # the pending leave's too

    file = tmp_path / "elsewhere" / "conv-moved.jsonl"
    file.parent.mkdir()
    file.write_text(exported)
    db.unlink()  # another machine: no store at all
    assert run.main(["replay", "--file", str(file), "--json"]) == 0
    replayed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    expected = redact_state(conversation.state)
    assert replayed[-1]["state"] == json.loads(json.dumps(exported_state(expected)))
    # The seen ids are kept packed (events/seen_ids.py) and shown as the ids themselves.
    assert replayed[-1]["state"]["seen_connect_ids"] == sorted(conversation.state.seen_connect_ids) != []
    with ExportedConversation.open(file) as opened:
        *_, last = fold(opened.conversation_id, opened.events())
    assert last.state == expected  # the one fold recovery uses, fed by the file
    assert run.main(["replay", "--file", str(file)]) == 0
    timeline = capsys.readouterr().out
    assert "FailoverSwitched" in timeline and "order 7 (move): moves us-east-1→us-west-2" in timeline
    assert "ChatLeaveRequested" in timeline and TOKEN not in timeline and not db.exists()


def test_replay_of_a_file_takes_until_and_checks_the_conversation(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "events.db"
    stored_conversation(db)
    file = tmp_path / "conv-1.jsonl"
    file.write_text(export(db, "conv-1", capsys))
    assert run.main(["replay", "conv-1", "--file", str(file), "--until", "2"]) == 0
    assert [line.split()[0] for line in capsys.readouterr().out.splitlines() if line.startswith("#")] == ["#1", "#2"]
    assert run.main(["replay", "conv-2", "--file", str(file)]) == 2
    assert "holds conversation 'conv-1', not 'conv-2'" in capsys.readouterr().err
    assert run.main(["replay"]) == 2
    assert "name a CONVERSATION, or an exported one with --file FILE" in capsys.readouterr().err


def broken(file: Path, lines: list[str]) -> Path:
    file.write_text("".join(line + "\n" for line in lines))
    return file


@pytest.mark.parametrize(
    ("damage", "says"),
    [
        (lambda lines: ["not json"] + lines[1:], "line 1: not JSON"),
        (lambda lines: ['{"format": "connect-worker-conversation"}'] + lines[1:], "line 1: not the header of an exported conversation: Object missing required field `format_version`"),
        (lambda lines: [lines[0].replace('"format_version":1', '"format_version":2')] + lines[1:], "line 1: format version 2 is newer"),
        (lambda lines: [lines[0].replace("connect-worker-conversation", "something-else")] + lines[1:], "line 1: format 'something-else'"),
        (lambda lines: lines[:3] + ["{oops"] + lines[4:], "line 4: not JSON"),
        (lambda lines: lines[:3] + [lines[3].replace('"seq":3', '"seq":"3"')] + lines[4:], "line 4: not an exported event: Expected `int`, got `str` - at `$.seq`"),
        (lambda lines: lines[:3] + lines[4:], "line 4: event seq 4 where seq 3 was expected"),
        (lambda lines: lines[:3] + [""] + lines[3:], "line 4: empty"),
        (lambda lines: [*lines, "", '{"seq": 10}'], "line 11: empty"),
        (lambda lines: [*lines[:5], lines[5].replace('"recorded_at":', '"recorded_at":1e20,"_":')] + lines[6:],
         "line 6: not an exported event: Expected `float` <= 253402300799.0 - at `$.recorded_at`"),
        (lambda lines: lines[:-2], "the file ends after 7 events, and its header says 9: it was cut short"),
        (lambda lines: lines[:5] + [lines[5].replace('"v":1,', '"v":9,')] + lines[6:], "line 6 (event 5): AgentJoined has schema version 9"),
    ],
    ids=["header not json", "header missing a field", "newer format", "another format", "event not json",
         "event field of the wrong type", "event missing", "empty line", "empty line before an event",
         "time past 9999", "cut short", "event from the future"],
)
def test_a_bad_file_is_a_clear_error_naming_the_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], damage: Callable[[list[str]], list[str]], says: str
) -> None:
    db = tmp_path / "events.db"
    stored_conversation(db)
    lines = export(db, "conv-1", capsys).splitlines()
    file = broken(tmp_path / "bad.jsonl", damage(lines))
    assert run.main(["replay", "--file", str(file)]) == 2
    out, err = capsys.readouterr()
    assert f"replay: {file}: line " in err and says in err, err
    assert "Traceback" not in err
    assert out == "", "a file that cannot be read whole is refused with nothing of it printed"



def test_a_file_cut_short_is_refused_even_when_until_stops_before_the_cut(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "events.db"
    stored_conversation(db)
    file = broken(tmp_path / "cut.jsonl", export(db, "conv-1", capsys).splitlines()[:-2])
    assert run.main(["replay", "--file", str(file), "--until", "1"]) == 2
    out, err = capsys.readouterr()
    assert "it was cut short" in err and out == ""


def test_empty_lines_at_the_end_of_a_file_are_no_damage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "events.db"
    stored_conversation(db)
    file = broken(tmp_path / "pasted.jsonl", [*export(db, "conv-1", capsys).splitlines(), "", "  "])
    assert run.main(["replay", "--file", str(file)]) == 0

def test_a_line_that_is_not_utf8_is_named_like_one_that_is_not_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "events.db"
    stored_conversation(db)
    header, first, second, *rest = export(db, "conv-1", capsys).encode().splitlines()
    latin1 = second.replace(b'"type":"', b'"type":"\xe9', 1)  # an editor saved it in Latin-1
    file = tmp_path / "bad.jsonl"
    file.write_bytes(b"\n".join([header, first, latin1, *rest]) + b"\n")
    assert run.main(["replay", "--file", str(file)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"replay: {file}: line 3: not JSON: ") and "UTF-8" in err, err


@pytest.mark.parametrize(("where", "says"), [("nowhere.jsonl", "No such file"), (".", "Is a directory")])
def test_replay_of_a_missing_file_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str, says: str
) -> None:
    file = tmp_path / where
    assert run.main(["replay", "--file", str(file)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"replay: {file}: {says}") and "Traceback" not in err, err


@pytest.mark.parametrize("until", ["0", "-3", "two"])
def test_replay_until_refuses_what_is_no_sequence_number(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], until: str
) -> None:
    db = tmp_path / "events.db"
    stored_conversation(db)
    with pytest.raises(SystemExit) as exited:
        run.main(["replay", "conv-1", "--until", until, "--db", str(db)])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert f"argument --until: {until!r} is not an event's sequence number: 1 or more" in err, err


def test_export_of_an_unknown_conversation_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "events.db"
    stored_conversation(db)
    assert run.main(["events", "export", "nobody", "--db", str(db)]) == 1
    out, err = capsys.readouterr()
    assert out == "" and "no events for conversation 'nobody'" in err
