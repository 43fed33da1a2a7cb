"""`run.py worker ...` against a real event store file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import cli, json_file
from tests.workers.test_worker_config import SEED_EXAMPLE, valid_worker


def test_create_prints_an_id_that_get_and_list_know(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "events.db")
    code, out, _ = cli(capsys, "worker", "create", str(json_file(tmp_path / "worker.json", valid_worker())), "--db", db)
    worker_id = out.strip()
    assert code == 0 and worker_id
    code, out, _ = cli(capsys, "worker", "get", worker_id, "--db", db)
    assert code == 0
    assert json.loads(out)["Name"] == "ConnectOne"
    code, out, _ = cli(capsys, "worker", "list", "--db", db)
    assert out.split() == [worker_id, "ConnectOne", "enabled", "us-east-1"]


def test_update_replaces_the_configuration(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "events.db")
    _, out, _ = cli(capsys, "worker", "create", str(json_file(tmp_path / "worker.json", valid_worker())), "--db", db)
    worker_id = out.strip()
    changed = valid_worker()
    changed["Enabled"] = False
    code, _, _ = cli(capsys, "worker", "update", worker_id, str(json_file(tmp_path / "changed.json", changed)), "--db", db)
    assert code == 0
    _, out, _ = cli(capsys, "worker", "get", worker_id, "--db", db)
    assert json.loads(out)["Enabled"] is False


def test_deleted_worker_is_gone_from_get_and_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "events.db")
    _, out, _ = cli(capsys, "worker", "create", str(json_file(tmp_path / "worker.json", valid_worker())), "--db", db)
    worker_id = out.strip()
    assert cli(capsys, "worker", "delete", worker_id, "--db", db)[0] == 0
    code, _, err = cli(capsys, "worker", "get", worker_id, "--db", db)
    assert code == 2 and f"no worker with id {worker_id!r}" in err
    assert cli(capsys, "worker", "list", "--db", db)[1] == ""


def test_the_seed_example_is_refused_with_its_line_and_nothing_is_stored(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "events.db"
    seed = tmp_path / "seed.json"
    seed.write_bytes(SEED_EXAMPLE)
    code, out, err = cli(capsys, "worker", "create", str(seed), "--db", str(db))
    assert code == 2 and out == ""
    assert err.strip() == f"{seed}: line 32, column 13: JSON syntax error: comments are not allowed in JSON; remove it"
    assert not db.exists()


def test_validate_names_the_json_path_of_a_wrong_value(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    document = valid_worker()
    document["Data"]["AutoDisconnectEvents"][1]["Type"] = "KICK"
    path = json_file(tmp_path / "worker.json", document)
    code, _, err = cli(capsys, "worker", "validate", str(path))
    assert code == 2
    assert err.strip() == f"{path}: $.Data.AutoDisconnectEvents[1].Type: expected WARNING or DISCONNECT, got 'KICK'"


def test_validate_accepts_a_valid_worker(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "worker", "validate", str(json_file(tmp_path / "worker.json", valid_worker())))
    assert code == 0 and "'ConnectOne'" in out


def test_a_missing_file_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "worker", "validate", str(tmp_path / "nope.json"))
    assert code == 2 and "nope.json: No such file or directory" in err


def test_validate_prints_every_problem_on_its_own_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    document = valid_worker()
    document["Data"]["Region"] = "Oregon"
    document["Data"]["AutoDisconnectEvents"][1]["Type"] = "KICK"
    document["Data"]["Regoin"] = "us-east-1"
    path = json_file(tmp_path / "worker.json", document)
    code, out, err = cli(capsys, "worker", "validate", str(path))
    assert (code, out) == (2, "")
    assert err.splitlines() == [
        f"{path}: $.Data: unknown field `Regoin` (did you mean `Region`?)",
        f"{path}: $.Data.Region: expected an AWS region such as us-east-1, got 'Oregon'",
        f"{path}: $.Data.AutoDisconnectEvents[1].Type: expected WARNING or DISCONNECT, got 'KICK'",
    ]


def test_create_refuses_a_worker_with_problems_and_stores_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    document = valid_worker()
    document["Data"]["Secret"] = "hunter2"
    document["Name"] = ""
    path = json_file(tmp_path / "worker.json", document)
    db = tmp_path / "events.db"
    code, out, err = cli(capsys, "worker", "create", str(path), "--db", str(db))
    assert (code, out) == (2, "")
    assert err.splitlines() == [
        f"{path}: $.Data.Secret: expected a vault reference srn:vault::ORG:TYPE:ALIAS, got something else",
        f"{path}: $.Name: expected a string that is not empty, got ''",
    ]
    assert not db.exists()
