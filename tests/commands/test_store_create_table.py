"""`run.py store create-table`: the DynamoDB log's table, and clear refusals naming what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from store import NewEvent
from tests.support.cli import cli
from tests.support.dynamodb import REGION, open_dynamo_store

pytestmark = pytest.mark.usefixtures("dynamodb_credentials")


def test_create_table_makes_a_table_the_store_opens_and_writes(
    capsys: pytest.CaptureFixture[str], dynamodb_endpoint: str, tmp_path: Path
) -> None:
    code, out, _ = cli(capsys, "store", "create-table", "--table", "made-by-cli", "--region", REGION,
                       "--endpoint-url", dynamodb_endpoint)

    assert code == 0
    assert out.startswith(f"created DynamoDB table made-by-cli in {REGION}")
    with open_dynamo_store(dynamodb_endpoint, "made-by-cli", tmp_path / "events.db") as store:
        assert store.append("s", [NewEvent("A", b"{}")], 0) == 1


def test_a_table_that_exists_is_left_alone(capsys: pytest.CaptureFixture[str], dynamodb_endpoint: str) -> None:
    arguments = ("store", "create-table", "--table", "made-twice", "--region", REGION, "--endpoint-url", dynamodb_endpoint)
    assert cli(capsys, *arguments)[0] == 0

    code, _, err = cli(capsys, *arguments)

    assert code == 1
    assert "table 'made-twice' exists already" in err


@pytest.mark.parametrize(
    ("arguments", "names"),
    [
        (("--table", "no", "--region", REGION), "--table 'no'"),
        (("--table", "bad name", "--region", REGION), "--table 'bad name'"),
        (("--table", "fine", "--region", "Europe"), "--region 'Europe'"),
        (("--table", "fine", "--region", REGION, "--endpoint-url", "localhost:8000"), "--endpoint-url 'localhost:8000'"),
    ],
)
def test_bad_arguments_are_refused_naming_them(
    capsys: pytest.CaptureFixture[str], arguments: tuple[str, ...], names: str
) -> None:
    code, _, err = cli(capsys, "store", "create-table", *arguments)

    assert code == 2
    assert names in err
