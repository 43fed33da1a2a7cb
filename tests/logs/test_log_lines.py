"""What the service's log lines look like: one JSON object a line (text at a terminal), the context
bound on the logging thread, no credential whatever the code logged, and `--log-level`."""

from __future__ import annotations

import json
import logging
import os
import pty
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from structlog.contextvars import bound_contextvars

import logs
import run
from logs import KNOWN_SECRETS
from tests.commands.test_replay_and_tail import stored_conversation
from tests.support.processes import REPO

log = logging.getLogger("actors.test_log_lines")


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


@pytest.fixture
def json_logs() -> Iterator[None]:
    logs.configure(logging.INFO, "json")
    yield


def test_each_line_is_one_json_object_with_time_level_logger_and_message(
    json_logs: None, capsys: pytest.CaptureFixture[str]
) -> None:
    log.warning("conversation %s: chat socket retry %d", "c-1", 2)
    log.info("recovered %d live conversations", 3)
    first, second = json_lines(capsys.readouterr().err)
    assert first["message"] == "conversation c-1: chat socket retry 2"
    assert (first["level"], first["logger"]) == ("WARNING", "actors.test_log_lines")
    assert first["timestamp"].endswith("Z")
    assert second["message"] == "recovered 3 live conversations" and second["level"] == "INFO"


def test_what_the_logging_thread_bound_is_on_each_of_its_lines(json_logs: None, capsys: pytest.CaptureFixture[str]) -> None:
    with bound_contextvars(conversation_id="c-7", worker_id="w-3"):
        log.warning("inside")
    log.warning("outside")
    inside, outside = json_lines(capsys.readouterr().err)
    assert (inside["conversation_id"], inside["worker_id"]) == ("c-7", "w-3")
    assert "conversation_id" not in outside and "worker_id" not in outside


def test_an_exception_is_one_line_with_its_traceback_in_a_field(json_logs: None, capsys: pytest.CaptureFixture[str]) -> None:
    try:
        raise ValueError("the connector answered 500")
    except ValueError:
        log.exception("conversation c-1: the slash command failed")
    [line] = json_lines(capsys.readouterr().err)
    assert "ValueError: the connector answered 500" in line["exception"]


@pytest.mark.plants_tokens  # it logs credentials on purpose, to see the scrub take them out
def test_no_credential_reaches_a_line_whatever_the_code_logged(json_logs: None, capsys: pytest.CaptureFixture[str]) -> None:
    participant, connection = "pt-AAECAwQFBgcICQoLDA0ODxAR", "ct-ZYXWVUTSRQPONMLKJIHG"
    KNOWN_SECRETS.hold("c-leaky", [participant, connection])
    try:
        log.warning("conversation c-leaky: reconnecting with %s", participant)
        log.warning("GetTranscript with ConnectionToken=%s refused", connection)
        log.warning("webhook refused: Authorization: Bearer cw_live_0123456789abcdef")
        log.warning("signing with whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        log.warning("wss://connect.example/ws?X-Amz-Security-Token=IQoJb3JpZ2luX2VjE&X-Amz-Date=20261124")
        log.warning("a dict %s", {"participant_token": "not-yet-known-0123456789"})
        try:
            raise RuntimeError(f"socket closed for {connection}")
        except RuntimeError:
            log.exception("conversation c-leaky: the socket failed")
    finally:
        KNOWN_SECRETS.release("c-leaky")
    err = capsys.readouterr().err
    lines = json_lines(err)
    for secret in (participant, connection, "cw_live_0123456789abcdef", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                   "IQoJb3JpZ2luX2VjE", "not-yet-known-0123456789"):
        assert secret not in err
    assert lines[0]["message"] == "conversation c-leaky: reconnecting with <redacted>"
    assert "Bearer <redacted>" in lines[2]["message"] and "whsec_<redacted>" in lines[3]["message"]
    assert "X-Amz-Date=20261124" in lines[4]["message"]  # what is no credential stays readable


def test_a_released_conversations_tokens_are_no_longer_scrubbed_by_value() -> None:
    known = logs.KnownSecrets()
    known.hold("c-1", ["participant-token-0123456789", None, "short"])
    assert known.scrub("short participant-token-0123456789") == "short <redacted>"
    known.release("c-1")
    assert known.scrub("participant-token-0123456789") == "participant-token-0123456789"


def test_a_token_of_one_conversation_among_thousands_is_scrubbed_wherever_it_is_in_the_line() -> None:
    known = logs.KnownSecrets()
    for index in range(5000):
        known.hold(f"c-{index}", [f"participant-{index:06d}-ABCDEFGH", f"connection-{index:06d}-ABCDEFGH"])
    line = "retry connection-004321-ABCDEFGH,participant-000007-ABCDEFGHx and c-42"
    assert known.scrub(line) == "retry <redacted>,<redacted>x and c-42"
    assert known.scrub("participant-000007-ABCDEFG") == "participant-000007-ABCDEFG"  # a value cut short is not one held


def test_a_value_two_conversations_hold_is_scrubbed_until_both_let_it_go() -> None:
    known = logs.KnownSecrets()
    known.hold("c-1", ["shared-token-0123456789", "c-1-token-0123456789"])
    known.hold("c-2", ["shared-token-0123456789"])
    known.release("c-1")
    assert known.scrub("shared-token-0123456789 c-1-token-0123456789") == "<redacted> c-1-token-0123456789"
    known.hold("c-2", ["shared-token-0123456789-longer"])  # it holds another now: the first is let go
    assert known.scrub("shared-token-0123456789-longer") == "<redacted>"
    assert known.scrub("shared-token-0123456789-") == "shared-token-0123456789-"


def test_log_level_filters_what_a_command_logs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "events.db")
    stored_conversation(tmp_path / "events.db")
    assert run.main(["events", "export", "conv-1", "--db", db]) == 0
    assert capsys.readouterr().err == ""  # WARNING by default: the export's INFO line is not shown
    assert run.main(["--log-level", "info", "events", "export", "conv-1", "--db", db]) == 0
    [line] = json_lines(capsys.readouterr().err)
    assert line["message"] == "exported 9 events of conversation conv-1" and line["level"] == "INFO"
    assert run.main(["events", "export", "conv-1", "--db", db, "--log-level", "ERROR"]) == 0
    assert capsys.readouterr().err == ""


def export_with_stderr(db: Path, stderr: int, *options: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "run.py", "events", "export", "conv-1", "--db", str(db), "--log-level", "INFO", *options],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=stderr, env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def read_terminal(primary: int) -> str:
    """All the child wrote to the terminal, until it closed its end (EIO on Linux)."""
    chunks = []
    while True:
        try:
            chunk = os.read(primary, 4096)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks).decode()


def test_at_a_terminal_the_lines_are_text_and_in_a_pipe_json(tmp_path: Path) -> None:
    db = tmp_path / "events.db"
    stored_conversation(db)
    primary, secondary = pty.openpty()
    try:
        child = export_with_stderr(db, secondary)
        os.close(secondary)
        text = read_terminal(primary)
        assert child.wait(timeout=30) == 0
    finally:
        os.close(primary)
    [line] = [line for line in text.splitlines() if "exported 9 events" in line]
    assert not line.lstrip().startswith("{") and "INFO" in line and "commands.events_log" in line

    piped = export_with_stderr(db, subprocess.PIPE)
    _, err = piped.communicate(timeout=30)
    assert json.loads(err)["message"] == "exported 9 events of conversation conv-1"

    primary, secondary = pty.openpty()
    try:
        child = export_with_stderr(db, secondary, "--log-format", "json")
        os.close(secondary)
        text = read_terminal(primary)
        assert child.wait(timeout=30) == 0
    finally:
        os.close(primary)
    assert json.loads(text)["level"] == "INFO"  # asked for, JSON at a terminal too
