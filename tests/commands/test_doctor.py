"""`run.py doctor`: each region of a worker checked in order (secret, role, contact flow, queue), one line
per check, against the local Amazon Connect on loopback (a serve configuration with `static_credentials`)
and, for a role that cannot be assumed, moto's STS."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from connect_local import LocalConnect
from events.worker_config import parse_worker_config
from store import EventStore
from store.data_folder import prepare_data_folder
from store.workers import WorkerRegistry
from tests.support.aws_roles import moto_roles
from tests.support.cli import cli
from tests.workers.test_worker_config import valid_worker
from vault import CrossAccountRole, LocalVault, parse_reference

SECRET = "srn:vault::acme:aws-cross-account-role:connect"
ROLE = CrossAccountRole("arn:aws:iam::123456789012:role/connect-worker", "ext-42")
UNKNOWN = "00000000-0000-4000-8000-000000000000"


def worker_at(info: dict[str, Any], **data: Any) -> dict[str, Any]:
    """A worker whose primary region is the local Amazon Connect's, with its queue, and no failover region."""
    document = valid_worker()
    del document["Data"]["FailoverRegionConfig"]
    document["Data"].update(
        Region=info["region"],
        InstanceId=info["instance_id"],
        ContactFlowId=info["contact_flow_id"],
        QueueId=info["queue_id"],
        Secret=SECRET,
    )
    document["Data"].update(data)
    return document


def store_workers(data_dir: Path, *documents: dict[str, Any], role: CrossAccountRole | None = ROLE) -> list[str]:
    """The workers stored in `data_dir`'s event store, and `role` in its local vault under SECRET."""
    prepare_data_folder(data_dir)
    with EventStore.open(data_dir / "events.db") as store:
        registry = WorkerRegistry(store)
        ids = [registry.create(parse_worker_config(json.dumps(d).encode()), at=time.time()) for d in documents]
        if role is not None:
            LocalVault(store.path).put(parse_reference(SECRET), role)
    return ids


def serve_config(tmp_path: Path, data_dir: Path, regions: dict[str, Any]) -> str:
    path = tmp_path / "serve.json"
    path.write_text(json.dumps({"data_dir": str(data_dir), "regions": regions}))
    return str(path)


def local_config(tmp_path: Path, server: LocalConnect) -> str:
    """serve's configuration for the local Amazon Connect: its endpoint, signed with static credentials."""
    region = {"endpoint_url": server.endpoint_url, "static_credentials": True}
    return serve_config(tmp_path, tmp_path / "data", {server.ready_info()["region"]: region})


def check_lines(out: str) -> list[tuple[str, str]]:
    """(status, words) of each check line, the region left out."""
    found = []
    for line in out.splitlines():
        status, _, rest = line.strip().partition(" ")
        if line.startswith("  ") and status in ("ok", "warn", "skip", "FAIL"):
            found.append((status, rest.strip().split(": ", 1)[1]))
    return found


def test_every_check_passes_against_the_local_amazon_connect(
    tmp_path: Path, server: LocalConnect, capsys: pytest.CaptureFixture[str]
) -> None:
    info = server.ready_info()
    disabled = worker_at(info, ContactFlowId=UNKNOWN)  # not checked: only enabled workers are
    disabled["Enabled"] = False
    [worker_id, _] = store_workers(tmp_path / "data", worker_at(info), disabled)

    code, out, err = cli(capsys, "doctor", "--config", local_config(tmp_path, server))

    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == f"worker {worker_id} ConnectOne"
    assert all(line.startswith("  ") and " us-east-1 (primary): " in line for line in lines[1:-1])
    assert check_lines(out) == [
        ("ok", f"the secret {SECRET} ($.Data.Secret) resolves to the role {ROLE.role_arn}"),
        (
            "skip",
            "the role is not assumed: serve's configuration gives us-east-1 static_credentials "
            "(a local Amazon Connect), so serve assumes none there",
        ),
        ("ok", f"instance {info['instance_id']} has the contact flow {info['contact_flow_id']} (Default customer queue)"),
        ("ok", f"the figures of queue {info['queue_id']} can be read: 1 agent online, 1 available, 0 chats waiting"),
    ]
    assert lines[-1] == "doctor: every check passed (0 warnings, 1 skipped)"
    assert ROLE.external_id not in out


def test_an_unknown_contact_flow_fails_with_a_fix_line_and_exit_code_1(
    tmp_path: Path, server: LocalConnect, capsys: pytest.CaptureFixture[str]
) -> None:
    info = server.ready_info()
    [worker_id] = store_workers(tmp_path / "data", worker_at(info, ContactFlowId=UNKNOWN))

    code, out, _ = cli(capsys, "doctor", worker_id, "--config", local_config(tmp_path, server))

    assert code == 1
    assert [status for status, _ in check_lines(out)] == ["ok", "skip", "FAIL", "ok"]
    lines = out.splitlines()
    failed = next(i for i, line in enumerate(lines) if line.startswith("  FAIL"))
    assert lines[failed] == (
        f"  FAIL  us-east-1 (primary): the contact flow {UNKNOWN} was not found in instance {info['instance_id']} "
        f"in us-east-1: Connect said: Contact flow {UNKNOWN} not found in instance {info['instance_id']}"
    )
    assert lines[failed + 1] == (
        f"        fix: correct $.Data.InstanceId or $.Data.ContactFlowId (python run.py worker update {worker_id} "
        "FILE.json): both must be ids in us-east-1's Amazon Connect"
    )
    assert lines[-1] == "doctor: 1 check failed (0 warnings, 1 skipped): fix and run doctor again"


def test_a_worker_without_a_queue_id_is_warned_about_and_still_passes(
    tmp_path: Path, server: LocalConnect, capsys: pytest.CaptureFixture[str]
) -> None:
    document = worker_at(server.ready_info())
    del document["Data"]["QueueId"]
    [worker_id] = store_workers(tmp_path / "data", document)

    code, out, _ = cli(capsys, "doctor", worker_id, "--config", local_config(tmp_path, server))

    assert code == 0
    assert check_lines(out)[3] == ("warn", "no QueueId: set $.Data.QueueId to let bots see the queue")
    assert out.splitlines()[-1] == "doctor: every check passed (1 warning, 1 skipped)"


def test_a_role_whose_trust_does_not_hold_its_external_id_fails_saying_which_trust_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with moto_roles() as aws:
        role = aws.role("connect-worker", "ext-42", trusted_external_id="ext-the-role-expects")
        document = worker_at({"region": "us-east-1", "instance_id": UNKNOWN, "contact_flow_id": UNKNOWN, "queue_id": UNKNOWN})
        [worker_id] = store_workers(tmp_path / "data", document, role=role)

        code, out, err = cli(capsys, "doctor", "--config", serve_config(tmp_path, tmp_path / "data", {}))

    assert (code, err) == (1, "")
    checks = check_lines(out)
    assert [status for status, _ in checks] == ["ok", "FAIL", "skip", "skip"]
    said = checks[1][1]
    assert said.startswith(
        f"the role {SECRET} names cannot be assumed: AssumeRoleDenied: sts:AssumeRole on {role.role_arn} was denied: "
        f"the role's trust policy must allow this service's principal with the sts:ExternalId {SECRET} holds"
    )
    assert aws.principal in said  # STS's words name the principal to trust
    assert said.endswith(f"`python run.py worker policy {worker_id}` prints the policies the role needs")
    fix = next(line for line in out.splitlines() if line.startswith("        fix: "))
    assert fix == (
        f"        fix: give the role the TrustPolicy `python run.py worker policy {worker_id}` prints (this service's "
        "principal, with the role's external id), and the principal the PrincipalPolicy it prints (sts:AssumeRole "
        "on the role)"
    )
    assert checks[2:] == [
        ("skip", "the contact flow is not checked: there are no credentials to call Connect with"),
        ("skip", "the queue is not checked: there are no credentials to call Connect with"),
    ]
    for never in ("ext-42", "ext-the-role-expects", *aws.service_keys.values()):
        assert never not in out + err


def test_a_secret_the_vault_lacks_fails_says_how_to_put_it_and_skips_the_rest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = worker_at({"region": "us-east-1", "instance_id": UNKNOWN, "contact_flow_id": UNKNOWN, "queue_id": UNKNOWN})
    store_workers(tmp_path / "data", document, role=None)

    code, out, _ = cli(capsys, "doctor", "--config", serve_config(tmp_path, tmp_path / "data", {}))

    assert code == 1
    assert check_lines(out) == [
        ("FAIL", f"the secret {SECRET} ($.Data.Secret) does not resolve: the vault holds no such secret"),
        ("skip", "the role is not checked: the secret does not resolve"),
        ("skip", "the contact flow is not checked: the secret does not resolve"),
        ("skip", "the queue is not checked: the secret does not resolve"),
    ]
    assert out.splitlines()[2] == (
        f"        fix: put the role in the vault: python run.py secret put {SECRET} --file FILE, FILE holding "
        '{"RoleArn": "arn:aws:iam::ACCOUNT:role/NAME", "ExternalId": "..."}'
    )


def test_a_secret_the_vault_lacks_is_only_a_warning_where_serve_signs_with_static_credentials(
    tmp_path: Path, server: LocalConnect, capsys: pytest.CaptureFixture[str]
) -> None:
    store_workers(tmp_path / "data", worker_at(server.ready_info()), role=None)

    code, out, _ = cli(capsys, "doctor", "--config", local_config(tmp_path, server))

    assert code == 0
    assert [status for status, _ in check_lines(out)] == ["warn", "skip", "ok", "ok"]
    assert check_lines(out)[0][1] == (
        f"the secret {SECRET} ($.Data.Secret) does not resolve: the vault holds no such secret; serve does not "
        "read it while us-east-1 has static_credentials"
    )


def test_an_unknown_worker_is_bad_usage_naming_the_argument(
    tmp_path: Path, server: LocalConnect, capsys: pytest.CaptureFixture[str]
) -> None:
    store_workers(tmp_path / "data", worker_at(server.ready_info()))
    code, out, err = cli(capsys, "doctor", "nope", "--config", local_config(tmp_path, server))
    assert (code, out) == (2, "")
    assert err == "doctor: WORKER: no worker with id 'nope' (python run.py worker list shows them)\n"


def test_a_serve_configuration_that_cannot_be_read_is_bad_usage_naming_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "serve.json"
    config.write_text(json.dumps({"data_dir": str(tmp_path / "data"), "api_port": "8080"}))
    with pytest.raises(SystemExit) as exited:  # argparse: the usage, then the error
        cli(capsys, "doctor", "--config", str(config))
    out, err = capsys.readouterr()
    assert (exited.value.code, out) == (2, "")
    assert err.endswith(f"error: argument --config: {config}: Expected `int`, got `str` - at `$.api_port`\n")


def test_config_and_db_or_a_vault_option_together_are_bad_usage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = serve_config(tmp_path, tmp_path / "data", {})
    with pytest.raises(SystemExit) as exited:
        cli(capsys, "doctor", "--config", config, "--db", str(tmp_path / "other.db"))
    assert exited.value.code == 2
    assert capsys.readouterr().err.endswith("error: argument --db: not allowed with argument --config\n")
    code, _, err = cli(capsys, "doctor", "--config", config, "--backend", "secretsmanager")
    assert code == 2
    assert err == "doctor: --config names the vault: leave out --backend, --region and --endpoint-url\n"


def test_a_store_that_does_not_exist_is_bad_usage_naming_the_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "data" / "events.db"
    code, out, err = cli(capsys, "doctor", "--db", str(missing))
    assert (code, out) == (2, "")
    assert err == f"doctor: --db: no event store at {missing}\n"
    assert not missing.parent.exists()
