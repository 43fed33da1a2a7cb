"""`run.py secret ...` against a real event store file (the local vault) and moto's Secrets Manager:
a value goes in by stdin or --file, never by the command line, and comes out only with --show-value."""

from __future__ import annotations

import io
import json
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from moto import mock_aws

from tests.support.cli import cli

KEY_REF = "srn:vault::acme:secret:squeeze"
ROLE_REF = "srn:vault::acme:aws-cross-account-role:connect"
KEY = "sqz-key-never-printed"
ROLE = {"RoleArn": "arn:aws:iam::123456789012:role/ConnectWorker", "ExternalId": "ext-never-printed"}


@pytest.fixture
def db(tmp_path: Path) -> str:
    return str(tmp_path / "data" / "events.db")


Stdin = Callable[[bytes], None]


@pytest.fixture
def stdin(monkeypatch: pytest.MonkeyPatch) -> Stdin:
    """Set what the command reads on stdin (not a terminal)."""

    def feed(data: bytes) -> None:
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data)))

    return feed


def test_a_secret_from_stdin_is_listed_described_and_shown_only_when_asked(
    db: str, stdin: Stdin, capsys: pytest.CaptureFixture[str]
) -> None:
    stdin(f"{KEY}\n".encode())
    printed = []
    code, out, err = cli(capsys, "secret", "put", KEY_REF, "--db", db)
    assert (code, out, err) == (0, f"put {KEY_REF}\n", "")
    printed.append(out + err)

    code, out, err = cli(capsys, "secret", "list", "--db", db)
    [line] = out.splitlines()
    assert line.split()[:2] == [KEY_REF, "secret"] and line.split()[2].endswith("Z")
    printed.append(out + err)

    code, out, err = cli(capsys, "secret", "get", KEY_REF, "--db", db)
    assert code == 0
    assert [row.split()[0] for row in out.splitlines()] == ["reference", "type", "created", "updated", "value"]
    assert out.splitlines()[-1] == "value      hidden (--show-value prints it)"
    printed.append(out + err)
    assert not any(KEY in text for text in printed)

    assert cli(capsys, "secret", "get", KEY_REF, "--db", db, "--show-value") == (0, f"{KEY}\n", "")


def test_a_role_from_a_file_shows_as_the_json_put_reads(tmp_path: Path, db: str, capsys: pytest.CaptureFixture[str]) -> None:
    role_file = tmp_path / "role.json"
    role_file.write_text(json.dumps(ROLE, indent=2) + "\n")
    assert cli(capsys, "secret", "put", ROLE_REF, "--file", str(role_file), "--db", db)[0] == 0
    code, out, _ = cli(capsys, "secret", "get", ROLE_REF, "--db", db)
    assert "ext-never-printed" not in out and "ConnectWorker" not in out
    code, out, _ = cli(capsys, "secret", "get", ROLE_REF, "--db", db, "--show-value")
    assert json.loads(out) == ROLE


def test_put_replaces_and_delete_forgets(db: str, stdin: Stdin, capsys: pytest.CaptureFixture[str]) -> None:
    stdin(b"first")
    cli(capsys, "secret", "put", KEY_REF, "--db", db)
    stdin(b"second\r\n")
    cli(capsys, "secret", "put", KEY_REF, "--db", db)
    assert cli(capsys, "secret", "get", KEY_REF, "--db", db, "--show-value")[1] == "second\n"
    assert cli(capsys, "secret", "delete", KEY_REF, "--db", db) == (0, f"deleted {KEY_REF}\n", "")
    assert cli(capsys, "secret", "list", "--db", db)[1] == ""


@pytest.mark.parametrize("verb", ["get", "delete"])
def test_a_missing_secret_is_named(db: str, capsys: pytest.CaptureFixture[str], verb: str) -> None:
    code, out, err = cli(capsys, "secret", verb, KEY_REF, "--db", db)
    assert (code, out) == (2, "")
    assert err == f"secret {verb}: no secret {KEY_REF} in the local vault ({db})\n"


@pytest.mark.parametrize(
    ("arguments", "input", "message"),
    [
        (["put", "sqz-key-never-printed"], b"x", "secret put: REF: expected a vault reference srn:vault::ORG:TYPE:ALIAS, got something else"),
        (["put", "srn:vault::acme:password:x"], b"x", "secret put: REF: unknown vault type 'password'; the types are"),
        (["put", KEY_REF], b"", "secret put: stdin: no value; put reads it from stdin or --file"),
        (["put", KEY_REF], b"\xff\xfe", "secret put: stdin: not UTF-8 (byte 0)"),
        (
            ["put", ROLE_REF],
            json.dumps({**ROLE, "RoleArn": "arn:aws:iam::123:role/x-never-printed"}).encode(),
            f"secret put: {ROLE_REF}: RoleArn is not an IAM role ARN (arn:aws:iam::<12 digits>:role/<name>)",
        ),
        (["put", KEY_REF, "--region", "eu-west-2"], b"x", "secret put: --region and --endpoint-url go with --backend secretsmanager"),
        (["list", "--backend", "secretsmanager"], b"", "secret list: --region: required with --backend secretsmanager"),
        (["put", KEY_REF, "--file", "no-such-file"], b"", "secret put: no-such-file: No such file or directory"),
    ],
)
def test_bad_arguments_and_input_are_refused_naming_what_is_wrong(
    db: str, stdin: Stdin, capsys: pytest.CaptureFixture[str], arguments: list[str], input: bytes, message: str
) -> None:
    stdin(input)
    code, out, err = cli(capsys, "secret", *arguments, "--db", db)
    assert (code, out) == (2, "")
    assert err.startswith(message)
    assert "never-printed" not in err


def test_a_value_is_never_taken_from_the_command_line(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli(capsys, "secret", "put", KEY_REF, KEY, "--db", db)
    assert exited.value.code == 2
    assert "unrecognized arguments" in capsys.readouterr().err
    assert cli(capsys, "secret", "list", "--db", db)[1] == ""


def test_the_local_vaults_key_is_made_owner_only_beside_the_store(db: str, stdin: Stdin, capsys: pytest.CaptureFixture[str]) -> None:
    stdin(KEY.encode())
    cli(capsys, "secret", "put", KEY_REF, "--db", db)
    data = Path(db).parent
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE((data / "vault-secret.key").stat().st_mode) == 0o600
    assert KEY.encode() not in b"".join(path.read_bytes() for path in data.iterdir())


def test_the_commands_work_on_secrets_manager(stdin: Stdin, capsys: pytest.CaptureFixture[str]) -> None:
    backend = ["--backend", "secretsmanager", "--region", "eu-west-2"]
    with mock_aws():
        stdin(KEY.encode())
        assert cli(capsys, "secret", "put", KEY_REF, *backend) == (0, f"put {KEY_REF}\n", "")
        assert cli(capsys, "secret", "list", *backend)[1].split()[:2] == [KEY_REF, "secret"]
        code, out, _ = cli(capsys, "secret", "get", KEY_REF, *backend)
        assert code == 0 and KEY not in out
        assert cli(capsys, "secret", "get", KEY_REF, *backend, "--show-value")[1] == f"{KEY}\n"
        assert cli(capsys, "secret", "delete", KEY_REF, *backend)[0] == 0
        code, _, err = cli(capsys, "secret", "get", KEY_REF, *backend)
        assert (code, err) == (2, f"secret get: no secret {KEY_REF} in Secrets Manager (eu-west-2)\n")
