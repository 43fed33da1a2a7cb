"""`run.py connector ...` against a real event store file, with the seed's two examples."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.connectors.seeds import EMAIL_FILE, TRANSLATE_FILE, seed_email, seed_translate
from tests.support.cli import cli, json_file


def create(capsys: pytest.CaptureFixture[str], path: Path, db: Path) -> str:
    code, out, err = cli(capsys, "connector", "create", str(path), "--db", str(db))
    assert (code, err) == (0, "")
    return out.strip()


def test_both_seed_examples_are_created_and_listed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "events.db"
    translate_id = create(capsys, TRANSLATE_FILE, db)
    email_id = create(capsys, EMAIL_FILE, db)
    code, out, _ = cli(capsys, "connector", "list", "--db", str(db))
    assert code == 0
    assert sorted(line.split() for line in out.splitlines()) == sorted(
        [
            [translate_id, "IngressTranslateBaas", "aws-sdk", "Translate.translateText"],
            [email_id, "sendEmail", "aws-sdk", "SES.sendEmail"],
        ]
    )


def test_get_prints_the_seeds_json_with_every_field_kept(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "events.db"
    email_id = create(capsys, EMAIL_FILE, db)
    code, out, _ = cli(capsys, "connector", "get", email_id, "--db", str(db))
    assert code == 0
    assert json.loads(out) == seed_email() | {"Headers": {}}


def test_a_second_connector_with_the_same_alias_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "events.db"
    first = create(capsys, EMAIL_FILE, db)
    code, out, err = cli(capsys, "connector", "create", str(EMAIL_FILE), "--db", str(db))
    assert (code, out) == (2, "")
    assert err.strip() == f"connector create: the alias 'sendEmail' is already used by connector {first}; aliases are unique"
    assert len(cli(capsys, "connector", "list", "--db", str(db))[1].splitlines()) == 1


def test_update_replaces_the_configuration(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "events.db"
    connector_id = create(capsys, TRANSLATE_FILE, db)
    changed = seed_translate() | {"Alias": "EgressTranslateBaas", "Updated": 1585818222020}
    code, out, _ = cli(capsys, "connector", "update", connector_id, str(json_file(tmp_path / "connector.json", changed)), "--db", str(db))
    assert (code, out.strip()) == (0, f"updated {connector_id}")
    _, out, _ = cli(capsys, "connector", "get", connector_id, "--db", str(db))
    assert (json.loads(out)["Alias"], json.loads(out)["Updated"]) == ("EgressTranslateBaas", 1585818222020)


def test_a_deleted_connector_is_gone_from_get_and_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "events.db"
    connector_id = create(capsys, EMAIL_FILE, db)
    assert cli(capsys, "connector", "delete", connector_id, "--db", str(db))[:2] == (0, f"deleted {connector_id}\n")
    code, _, err = cli(capsys, "connector", "get", connector_id, "--db", str(db))
    assert (code, err.strip()) == (2, f"connector get: no connector with id {connector_id!r}")
    assert cli(capsys, "connector", "list", "--db", str(db))[1] == ""
    code, _, err = cli(capsys, "connector", "delete", connector_id, "--db", str(db))
    assert code == 2 and "no connector with id" in err


def test_a_bad_file_has_every_problem_named_by_path_and_nothing_is_stored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = seed_email()
    document["Type"] = "http"
    document["Credentials"] = "AKIAIOSFODNN7EXAMPLE"
    document["RequestMapping"]["Email"]["inputpath"] = document["RequestMapping"]["Email"].pop("inputPath")
    path = json_file(tmp_path / "connector.json", document)
    db = tmp_path / "events.db"
    code, out, err = cli(capsys, "connector", "create", str(path), "--db", str(db))
    assert (code, out) == (2, "")
    assert err.splitlines() == [
        f"{path}: $.Type: expected aws-sdk (the only connector type supported), got 'http'",
        f"{path}: $.Credentials: expected a vault reference srn:vault::ORG:TYPE:ALIAS, got something else",
        f"{path}: $.RequestMapping['Email']: unknown field `inputpath` (did you mean `inputPath`?)",
        f"{path}: $.RequestMapping['Email']: missing required field `inputPath`",
    ]
    assert not db.exists()


def test_a_method_the_service_lacks_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = json_file(tmp_path / "connector.json", seed_email() | {"Method": "sendMail"})
    code, _, err = cli(capsys, "connector", "create", str(path), "--db", str(tmp_path / "events.db"))
    assert (code, err.strip()) == (2, f"{path}: $.Method: SES has no operation 'sendMail' (did you mean 'sendEmail'?)")


def test_the_seed_text_with_its_trailing_comma_is_refused_by_line_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "seed.json"
    path.write_bytes(EMAIL_FILE.read_bytes().replace(b"1585818222020\n", b"1585818222020,\n"))
    code, _, err = cli(capsys, "connector", "create", str(path), "--db", str(tmp_path / "events.db"))
    assert (code, err.strip()) == (2, f"{path}: line 32, column 27: JSON syntax error: trailing comma in object")


def test_a_missing_file_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "connector", "create", str(tmp_path / "nope.json"), "--db", str(tmp_path / "events.db"))
    assert code == 2 and "nope.json: No such file or directory" in err
