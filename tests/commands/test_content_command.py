"""`run.py content ...`: a worker's content items in a real event store file."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import cli, json_file
from tests.workers.test_worker_config import valid_worker


@pytest.fixture
def db(tmp_path: Path) -> str:
    return str(tmp_path / "events.db")


@pytest.fixture
def worker_id(tmp_path: Path, db: str, capsys: pytest.CaptureFixture[str]) -> str:
    code, out, _ = cli(capsys, "worker", "create", str(json_file(tmp_path / "worker.json", valid_worker())), "--db", db)
    assert code == 0
    return out.strip()


def test_an_item_put_is_read_listed_replaced_and_deleted(
    tmp_path: Path, db: str, worker_id: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(capsys, "content", "put", worker_id, "welcomewithname", "--text", "Welcome, {{name}}!", "--db", db)[0] == 0
    terms = tmp_path / "terms.txt"
    terms.write_text("Términos: ver https://example.com/terms\n", encoding="utf-8")
    assert cli(capsys, "content", "put", worker_id, "terms", "--file", str(terms), "--db", db)[0] == 0

    assert cli(capsys, "content", "get", worker_id, "welcomewithname", "--db", db)[1] == "Welcome, {{name}}!\n"
    assert cli(capsys, "content", "get", worker_id, "terms", "--db", db)[1] == "Términos: ver https://example.com/terms\n\n"
    assert cli(capsys, "content", "list", worker_id, "--db", db)[1].splitlines() == [
        "terms  41 bytes",
        "welcomewithname  18 bytes",
    ]
    cli(capsys, "content", "put", worker_id, "welcomewithname", "--text", "Hi {{name}}", "--db", db)
    assert cli(capsys, "content", "get", worker_id, "welcomewithname", "--db", db)[1] == "Hi {{name}}\n"

    assert cli(capsys, "content", "delete", worker_id, "terms", "--db", db)[0] == 0
    code, out, err = cli(capsys, "content", "get", worker_id, "terms", "--db", db)
    assert (code, out) == (2, "") and "has no content item 'terms'" in err
    assert cli(capsys, "content", "delete", worker_id, "terms", "--db", db)[0] == 2


def test_items_belong_to_their_worker(tmp_path: Path, db: str, worker_id: str, capsys: pytest.CaptureFixture[str]) -> None:
    other = cli(capsys, "worker", "create", str(json_file(tmp_path / "other.json", valid_worker())), "--db", db)[1].strip()
    cli(capsys, "content", "put", worker_id, "greeting", "--text", "Hello", "--db", db)
    assert cli(capsys, "content", "list", other, "--db", db)[1] == ""
    assert cli(capsys, "content", "get", other, "greeting", "--db", db)[0] == 2


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        (["put", "{worker}", "bad key", "--text", "x"], "KEY: 'bad key' is not a content key"),
        (["put", "{worker}", "empty", "--text", ""], "the text is empty"),
        (["put", "{worker}", "big", "--text", "x" * 65_537], "the text is 65,537 bytes; at most 65,536"),
        (["put", "no-such-worker", "k", "--text", "x"], "no worker with id 'no-such-worker'"),
        (["list", "no-such-worker"], "no worker with id 'no-such-worker'"),
    ],
)
def test_bad_arguments_are_refused_naming_what_is_wrong(
    db: str, worker_id: str, capsys: pytest.CaptureFixture[str], arguments: list[str], named: str
) -> None:
    code, out, err = cli(capsys, "content", *[a.replace("{worker}", worker_id) for a in arguments], "--db", db)
    assert (code, out) == (2, "")
    assert named in err
