"""`run.py failover ...` against a real event store file, with no service running (the end-to-end
tests, tests/e2e/test_failover.py, give orders to a running one)."""

from __future__ import annotations

from pathlib import Path

import pytest

from store import EventStore
from store.service_lock import ServiceLock
from store.workers import WorkerRegistry
from tests.support.cli import cli, json_file
from tests.workers.test_worker_config import valid_worker


def with_failover(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    """A worker with the failover region "oregon"; (its id, the store's path)."""
    worker = valid_worker()
    worker["Data"]["FailoverRegionConfig"] = {"FailoverRegions": [{
        "Name": "oregon", "Secret": "srn:vault::acme:aws-cross-account-role:failover", "Region": "us-west-2",
        "InstanceId": "618c435d-1330-45a5-9834-285c5422de81", "ContactFlowId": "8949fcc8-9d49-4e97-8bb5-eba4a847f1a1",
    }]}
    db = str(tmp_path / "events.db")
    _, out, _ = cli(capsys, "worker", "create", str(json_file(tmp_path / "worker.json", worker)), "--db", db)
    return out.strip(), db


def test_an_order_given_while_no_service_runs_is_written_and_left_for_its_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    worker_id, db = with_failover(tmp_path, capsys)
    code, out, _ = cli(capsys, "failover", worker_id, "--to", "oregon", "--move", "--db", db)
    assert code == 0
    assert "order 2: " in out and "failover region oregon: us-west-2" in out
    assert "no service is running" in out and "it will carry out order 2 when it starts" in out
    with EventStore.open(Path(db)) as store:
        state = WorkerRegistry(store).state(worker_id)
    assert (state.failover_order, state.failover_mode, state.carried_out) == (2, "move", 0)


def test_the_same_order_again_writes_nothing_and_says_it_is_in_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    worker_id, db = with_failover(tmp_path, capsys)
    cli(capsys, "failover", worker_id, "--to", "oregon", "--db", db)
    code, out, _ = cli(capsys, "failover", worker_id, "--to", "oregon", "--db", db)
    assert code == 0 and out.startswith("already in force (order 2)")


def test_a_running_service_that_does_not_carry_the_order_out_in_time_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    worker_id, db = with_failover(tmp_path, capsys)
    lock = ServiceLock(Path(db)).acquire()  # a service that holds the store and does nothing
    try:
        code, out, _ = cli(capsys, "failover", worker_id, "--primary", "--wait", "0.2", "--db", db)
    finally:
        lock.release()
    assert code == 0 and "already in force (order 0)" in out  # on the primary already: nothing to carry out
    lock = ServiceLock(Path(db)).acquire()
    try:
        code, out, _ = cli(capsys, "failover", worker_id, "--to", "oregon", "--wait", "0.2", "--db", db)
    finally:
        lock.release()
    assert code == 1 and "has not carried out order 2 within 0.2 s" in out


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["--to", "mars"], "failover: --to: worker {id} has no failover region 'mars' (it has ['oregon'])"),
        (["--to", "oregon", "--primary"], "not allowed with argument"),
        ([], "one of the arguments --to --primary is required"),
        (["--to", "oregon", "--wait", "-1"], "argument --wait: '-1' is not a number of seconds (0 or more)"),
    ],
)
def test_bad_orders_are_refused_naming_the_argument(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], arguments: list[str], expected: str
) -> None:
    worker_id, db = with_failover(tmp_path, capsys)
    try:
        code, out, err = cli(capsys, "failover", worker_id, *arguments, "--db", db)
    except SystemExit as exit:  # argparse
        code, (out, err) = int(exit.code or 0), capsys.readouterr()
    assert code == 2 and expected.format(id=repr(worker_id)) in out + err


def test_an_unknown_worker_or_store_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, db = with_failover(tmp_path, capsys)
    code, out, err = cli(capsys, "failover", "nobody", "--to", "oregon", "--db", db)
    assert (code, out, err) == (2, "", "failover: no worker with id 'nobody'\n")
    missing = tmp_path / "elsewhere" / "events.db"
    code, _, err = cli(capsys, "failover", "nobody", "--primary", "--db", str(missing))
    assert code == 2 and "failover: --db: no event store" in err and not missing.parent.exists()
