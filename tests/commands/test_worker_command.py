"""`run.py worker ...` against a real event store file."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest

from events import encode, event_type
from store import EventStore, NewEvent
from store.conversations import conversation_stream
from tests.events.scenario import Run
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



def created(tmp_path: Path, capsys: pytest.CaptureFixture[str], db: str) -> str:
    return cli(capsys, "worker", "create", str(json_file(tmp_path / "worker.json", valid_worker())), "--db", db)[1].strip()


def test_an_update_that_changes_the_active_region_says_it_is_a_failover_order(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "events.db")
    worker_id = created(tmp_path, capsys, db)  # on its failover region us-west-2-oregon
    described = valid_worker()
    described["Description"] = "a new description"
    code, out, _ = cli(capsys, "worker", "update", worker_id, str(json_file(tmp_path / "same.json", described)), "--db", db)
    assert (code, out) == (0, f"updated {worker_id}\n")

    described["Data"]["FailoverRegionConfig"]["ActiveFailoverRegion"] = None
    code, out, _ = cli(capsys, "worker", "update", worker_id, str(json_file(tmp_path / "home.json", described)), "--db", db)
    updated, order = out.splitlines()
    assert (code, updated) == (0, f"updated {worker_id}")
    assert order.startswith(f"order 3: worker {worker_id} (ConnectOne) starts new transfers in the primary region: us-east-1")


def test_a_worker_with_live_conversations_is_deleted_only_with_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "events.db")
    worker_id = created(tmp_path, capsys, db)
    live = Run("live-1").connected()
    transferred = msgspec.structs.replace(live.events[0], worker_id=worker_id)
    with EventStore.open(db) as store:
        events = [transferred, *live.events[1:]]
        store.append(conversation_stream("live-1"), [NewEvent(event_type(e), encode(e)) for e in events], expected_version=0)

    code, out, err = cli(capsys, "worker", "delete", worker_id, "--db", db)
    assert code == 2 and out == ""
    assert f"worker delete: worker {worker_id} has 1 live conversations (1 in us-east-1): deleted, it could" in err
    assert cli(capsys, "worker", "get", worker_id, "--db", db)[0] == 0, "still there"

    assert cli(capsys, "worker", "delete", worker_id, "--force", "--db", db)[:2] == (0, f"deleted {worker_id}\n")

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
