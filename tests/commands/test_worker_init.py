"""`run.py worker init`: a worker file in the seed's format from the address of its contact flow's page,
which `worker validate` and `worker create` take as it is; an address that names no contact flow, or an
option the file cannot hold, is refused naming the option, and nothing is written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import cli

INSTANCE = "123a456b-123a-456b-789c-0123456789ab"
FLOW = "987z654y-987z-654y-321x-9876543210zy"
ARN = f"arn:aws:connect:us-east-1:123456789012:instance/{INSTANCE}/contact-flow/{FLOW}"
SECRET = "srn:vault::acme:aws-cross-account-role:connect"
ADDRESSES = {
    "the seed's example": f"…/instance/{INSTANCE}/contact-flow/{FLOW}",
    "the admin website's flow page": "https://acme.my.connect.aws/contact-flows/edit?id="
    + ARN.replace(":", "%3A").replace("/", "%2F"),
    "the older admin website's, not encoded": f"https://acme.awsapps.com/connect/contact-flows/edit?id={ARN}",
    "the flow's ARN": ARN,
    "the ARN of its saved version": f"{ARN}:$SAVED",
}


def init(capsys: pytest.CaptureFixture[str], url: str, *options: str) -> tuple[int, str, str]:
    return cli(capsys, "worker", "init", "--contact-flow-url", url, "--region", "us-east-1", "--secret", SECRET, *options)


@pytest.mark.parametrize("url", ADDRESSES.values(), ids=ADDRESSES.keys())
def test_the_ids_come_from_the_contact_flows_address(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "worker.json"

    code, said, err = init(capsys, url, "--out", str(out))

    assert (code, err) == (0, "")
    assert f"wrote {out}" in said and f"python run.py worker create {out}" in said
    data = json.loads(out.read_text())["Data"]
    assert (data["InstanceId"], data["ContactFlowId"]) == (INSTANCE, FLOW)


def test_the_file_is_the_seeds_format_and_worker_validate_and_create_take_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "worker.json"
    assert init(capsys, ADDRESSES["the seed's example"], "--out", str(out), "--name", "ShopConnect")[0] == 0

    assert json.loads(out.read_text()) == {
        "Data": {
            "ContactFlowId": FLOW,
            "InitialConnectionMessage": '{"topic":"aws/subscribe","content":{"topics":["aws/chat"]}}',
            "InstanceId": INSTANCE,
            "Region": "us-east-1",
            "Secret": SECRET,
        },
        "Description": "Worker that routes to livechat agents",
        "Enabled": True,
        "Name": "ShopConnect",
        "Type": "amazon-connect-worker",
    }
    assert cli(capsys, "worker", "validate", str(out)) == (0, f"{out}: a valid worker named 'ShopConnect'\n", "")
    db = str(tmp_path / "events.db")
    code, worker_id, _ = cli(capsys, "worker", "create", str(out), "--db", db)
    assert code == 0
    assert cli(capsys, "worker", "list", "--db", db)[1].split() == [worker_id.strip(), "ShopConnect", "enabled", "us-east-1"]


def test_without_out_the_file_is_printed(capsys: pytest.CaptureFixture[str]) -> None:
    code, printed, _ = init(capsys, ARN)

    assert code == 0
    assert json.loads(printed)["Name"] == "ConnectOne"
    assert json.loads(printed)["Data"]["ContactFlowId"] == FLOW


@pytest.mark.parametrize(
    "url",
    [
        "https://console.aws.amazon.com/connect/v2/app/instances/" + INSTANCE,  # the instance's page, no flow
        f"https://acme.my.connect.aws/contact-flows/edit?name={FLOW}",
        f"…/instance/{INSTANCE}/contact-flow/",
        f"…/instance/{INSTANCE}/contact-flow/{FLOW}_copy",
        "",
    ],
)
def test_an_address_that_names_no_contact_flow_is_refused_naming_the_option(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "worker.json"

    code, said, err = init(capsys, url, "--out", str(out))

    assert (code, said) == (2, "")
    assert err.startswith(f"worker init: --contact-flow-url: {url!r} has no …/instance/<id>/contact-flow/<id> in it")
    assert "Routing, Flows" in err
    assert not out.exists()


def test_a_region_other_than_the_flows_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "worker.json"

    code, _, err = cli(capsys, "worker", "init", "--contact-flow-url", ARN, "--region", "eu-west-2",
                       "--secret", SECRET, "--out", str(out))

    assert code == 2
    assert err.strip() == (
        "worker init: --region eu-west-2 but the contact flow in --contact-flow-url is in us-east-1 (its ARN says "
        "so): a worker reaches its contact flow in the flow's own region"
    )
    assert not out.exists()


def test_what_the_file_cannot_hold_is_named_by_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "worker.json"

    code, _, err = cli(capsys, "worker", "init", "--contact-flow-url", ADDRESSES["the seed's example"],
                       "--region", "Oregon", "--secret", "connect-role", "--name", "", "--out", str(out))

    assert code == 2
    assert err.strip() == (
        "worker init: --region: expected an AWS region such as us-east-1, got 'Oregon'; "
        "--secret: expected a vault reference srn:vault::ORG:TYPE:ALIAS, got something else; "
        "--name: expected a string that is not empty, got ''"
    )
    assert not out.exists()


def test_an_existing_file_is_never_overwritten(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "worker.json"
    out.write_text("mine")

    code, _, err = init(capsys, ARN, "--out", str(out))

    assert code == 2
    assert err.strip() == f"worker init: --out {out}: the file exists; choose another name or remove it first"
    assert out.read_text() == "mine"
