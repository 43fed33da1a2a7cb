"""`run.py worker policy ID`: the worker's roles' policies as JSON, read from the store and the vault; the
trust policy names `--principal`, or the identity the command runs with (moto's STS here)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from moto import mock_aws

from tests.support.cli import cli, json_file
from tests.workers.test_worker_config import valid_worker
from vault import CrossAccountRole, LocalVault, parse_reference

SECRET = "srn:vault::acme:aws-cross-account-role:connect"
ROLE = CrossAccountRole("arn:aws:iam::123456789012:role/connect-worker", "ext-42")
PRINCIPAL = "arn:aws:iam::111122223333:role/connect-worker-service"


@pytest.fixture
def db(tmp_path: Path) -> str:
    return str(tmp_path / "data" / "events.db")


def stored_worker(tmp_path: Path, db: str, capsys: pytest.CaptureFixture[str], secret: str = SECRET) -> str:
    worker = valid_worker()
    worker["Data"]["Secret"] = secret
    worker["Data"]["FailoverRegionConfig"] = {
        "FailoverRegions": [
            {"Name": "us-west-2-oregon", "Secret": secret, "Region": "us-west-2", "InstanceId": "instance-2",
             "ContactFlowId": "flow-2", "QueueId": "queue-2"}
        ]
    }
    code, out, _ = cli(capsys, "worker", "create", str(json_file(tmp_path / "worker.json", worker)), "--db", db)
    assert code == 0
    return out.strip()


def test_the_policy_has_a_statement_per_region_and_trusts_the_principal_given(
    tmp_path: Path, db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    worker_id = stored_worker(tmp_path, db, capsys)
    LocalVault(Path(db)).put(parse_reference(SECRET), ROLE)

    code, out, err = cli(capsys, "worker", "policy", worker_id, "--db", db, "--principal", PRINCIPAL)

    assert (code, err) == (0, "")
    document = json.loads(out)
    [role] = document["Roles"]
    assert (document["WorkerId"], role["RoleArn"]) == (worker_id, ROLE.role_arn)
    assert role["Regions"] == ["us-east-1", "us-west-2"]
    _, failover = role["PermissionsPolicy"]["Statement"]
    assert failover["Resource"] == [
        "arn:aws:connect:us-west-2:123456789012:instance/instance-2/contact/*",
        "arn:aws:connect:us-west-2:123456789012:instance/instance-2/contact-flow/flow-2",
        "arn:aws:connect:us-west-2:123456789012:instance/instance-2/queue/queue-2",
    ]
    [trust] = role["TrustPolicy"]["Statement"]
    assert trust["Principal"] == {"AWS": PRINCIPAL}
    assert trust["Condition"] == {"StringEquals": {"sts:ExternalId": "ext-42"}}


def test_without_principal_the_trust_names_the_identity_the_command_runs_with_and_says_so(
    tmp_path: Path, db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    worker_id = stored_worker(tmp_path, db, capsys)
    LocalVault(Path(db)).put(parse_reference(SECRET), ROLE)
    with mock_aws():
        code, out, err = cli(capsys, "worker", "policy", worker_id, "--db", db)
    caller = "arn:aws:sts::123456789012:user/moto"  # moto's GetCallerIdentity
    assert code == 0
    assert json.loads(out)["Roles"][0]["TrustPolicy"]["Statement"][0]["Principal"] == {"AWS": caller}
    assert err == (
        f"worker policy: the trust policies name {caller}, the identity this command runs with "
        "(sts:GetCallerIdentity); pass --principal ARN if the service runs as another\n"
    )


def test_a_role_the_vault_does_not_hold_is_named_with_how_to_put_it(
    tmp_path: Path, db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    worker_id = stored_worker(tmp_path, db, capsys)
    code, out, err = cli(capsys, "worker", "policy", worker_id, "--db", db, "--principal", PRINCIPAL)
    assert (code, out) == (2, "")
    assert err == (
        f"worker policy: SecretNotFound: the vault holds no {SECRET}: put it there "
        f"(python run.py secret put {SECRET} --file FILE)\n"
    )


def test_a_secret_that_names_no_role_is_named_by_its_field(
    tmp_path: Path, db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    worker_id = stored_worker(tmp_path, db, capsys, secret="srn:vault::acme:secretdoc:keys")
    code, _, err = cli(capsys, "worker", "policy", worker_id, "--db", db, "--principal", PRINCIPAL)
    assert code == 2
    assert err.startswith(
        "worker policy: InvalidSecretReference: $.Data.Secret: srn:vault::acme:secretdoc:keys is a secretdoc reference"
    )


def test_a_principal_that_trusts_anyone_is_refused(tmp_path: Path, db: str, capsys: pytest.CaptureFixture[str]) -> None:
    worker_id = stored_worker(tmp_path, db, capsys)
    LocalVault(Path(db)).put(parse_reference(SECRET), ROLE)
    code, out, err = cli(capsys, "worker", "policy", worker_id, "--db", db, "--principal", "*")
    assert (code, out) == (2, "")
    assert err.startswith("worker policy: --principal: expected the ARN of the IAM role or user the service runs as")
