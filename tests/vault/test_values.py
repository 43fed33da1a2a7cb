"""What each type of reference holds, its one text form, and the refusals, none of which repeats a value."""

from __future__ import annotations

import json

import pytest

from vault import (
    CrossAccountRole,
    InvalidSecretValue,
    SecretDoc,
    SecretText,
    parse_reference,
    parse_value,
    serialize_value,
)
from vault.values import MAX_VALUE_BYTES

ROLE_REF = parse_reference("srn:vault::acme:aws-cross-account-role:connect")
CONNECTOR_ROLE_REF = parse_reference("srn:vault::acme:cross-account-role:connect")
DOC_REF = parse_reference("srn:vault::acme:secretdoc:translatesecret")
KEY_REF = parse_reference("srn:vault::acme:secret:squeeze")

ARN = "arn:aws:iam::123456789012:role/ConnectWorker"
EXTERNAL_ID = "ext-7f3a9c"


def role_text(**fields: object) -> str:
    return json.dumps({"RoleArn": ARN, "ExternalId": EXTERNAL_ID, **fields})


@pytest.mark.parametrize("reference", [ROLE_REF, CONNECTOR_ROLE_REF])
def test_a_cross_account_role_holds_the_role_arn_and_the_external_id(reference: object) -> None:
    assert parse_value(reference, role_text()) == CrossAccountRole(ARN, EXTERNAL_ID)


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:iam::123456789012:role/ConnectWorker",
        "arn:aws:iam::123456789012:role/service-role/team/Connect_Worker+1=,.@-",
        "arn:aws-us-gov:iam::123456789012:role/ConnectWorker",
    ],
)
def test_role_arns_may_have_a_path_and_another_partition(arn: str) -> None:
    assert parse_value(ROLE_REF, role_text(RoleArn=arn)).role_arn == arn


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:iam::12345678901:role/ConnectWorker",
        "arn:aws:iam::123456789012:user/ConnectWorker",
        "arn:aws:iam::123456789012:role/",
        "arn:aws:sts::123456789012:assumed-role/ConnectWorker/session",
        "arn:aws:iam::123456789012:role/" + "x" * 65,
        "ConnectWorker",
        "",
    ],
)
def test_anything_but_an_iam_role_arn_is_refused(arn: str) -> None:
    with pytest.raises(InvalidSecretValue) as caught:
        parse_value(ROLE_REF, role_text(RoleArn=arn))
    assert str(caught.value) == (
        "srn:vault::acme:aws-cross-account-role:connect: RoleArn is not an IAM role ARN"
        " (arn:aws:iam::<12 digits>:role/<name>)"
    )


@pytest.mark.parametrize("external_id", ["x", "has space-and-secret", "x" * 1225, 42])
def test_an_external_id_sts_would_refuse_is_refused_without_repeating_it(external_id: object) -> None:
    with pytest.raises(InvalidSecretValue) as caught:
        parse_value(ROLE_REF, role_text(ExternalId=external_id))
    assert "ExternalId must be 2 to 1,224 letters, digits" in str(caught.value)
    assert "secret" not in str(caught.value).split(": ", 1)[1]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (json.dumps({"RoleArn": ARN}), "missing field 'ExternalId' in a cross-account role"),
        (json.dumps({"RoleArn": ARN, "ExternalID": EXTERNAL_ID}), "unknown field 'ExternalID' in a cross-account role"),
        (json.dumps([ARN, EXTERNAL_ID]), "expected a JSON object"),
        (ARN, "not JSON: Expecting value (line 1, column 1)"),
    ],
)
def test_a_role_that_is_not_the_json_object_is_refused_in_words(text: str, problem: str) -> None:
    with pytest.raises(InvalidSecretValue) as caught:
        parse_value(ROLE_REF, text)
    assert str(caught.value).startswith(f"{ROLE_REF}: {problem}")
    assert EXTERNAL_ID not in str(caught.value)


def test_a_secretdoc_holds_a_json_object() -> None:
    document = {"AccessKeyId": "AKIAEXAMPLE", "SecretAccessKey": "wJalrXUtnFEMI/K7MDENG", "Nested": {"n": [1, 2.5, None]}}
    assert parse_value(DOC_REF, json.dumps(document)) == SecretDoc(document)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('["wJalrXUtnFEMI"]', "expected a JSON object"),
        ('{"SecretAccessKey": "wJalrXUtnFEMI",}', "not JSON: Expecting property name enclosed in double quotes"),
        ('{"SecretAccessKey": NaN}', "not JSON: NaN is not a JSON number"),
    ],
)
def test_a_secretdoc_that_is_not_a_json_object_is_refused_without_repeating_it(text: str, problem: str) -> None:
    with pytest.raises(InvalidSecretValue) as caught:
        parse_value(DOC_REF, text)
    assert str(caught.value).startswith(f"{DOC_REF}: {problem}")
    assert "wJalrXUtnFEMI" not in str(caught.value)


def test_a_secret_holds_the_text_as_it_is() -> None:
    assert parse_value(KEY_REF, ' sqz {"not": "json"} ') == SecretText(' sqz {"not": "json"} ')


def test_an_empty_secret_is_refused() -> None:
    with pytest.raises(InvalidSecretValue, match="^srn:vault::acme:secret:squeeze: a secret holds a string that is not empty$"):
        parse_value(KEY_REF, "")


@pytest.mark.parametrize(
    ("reference", "sized"),
    [(KEY_REF, lambda size: "é" + "x" * (size - 2)), (DOC_REF, lambda size: '{"k": "' + "x" * (size - 9) + '"}')],
)
def test_a_value_is_at_most_what_secrets_manager_takes_in_utf8_bytes(reference: object, sized: object) -> None:
    assert len(sized(MAX_VALUE_BYTES).encode()) == MAX_VALUE_BYTES
    parse_value(reference, sized(MAX_VALUE_BYTES))
    with pytest.raises(InvalidSecretValue, match=r"the value is 65,537 bytes; at most 65,536"):
        parse_value(reference, sized(MAX_VALUE_BYTES + 1))


@pytest.mark.parametrize(
    ("reference", "value"),
    [
        (ROLE_REF, CrossAccountRole(ARN, EXTERNAL_ID)),
        (DOC_REF, SecretDoc({"AccessKeyId": "AKIAEXAMPLE", "Ünïcode": "ß"})),
        (KEY_REF, SecretText("sqz-key\nwith a line")),
    ],
)
def test_the_text_form_reads_back_as_the_same_value(reference: object, value: object) -> None:
    assert parse_value(reference, serialize_value(reference, value)) == value


def test_a_role_is_written_as_the_json_object_put_reads() -> None:
    assert json.loads(serialize_value(ROLE_REF, CrossAccountRole(ARN, EXTERNAL_ID))) == {"RoleArn": ARN, "ExternalId": EXTERNAL_ID}


def test_a_value_is_refused_for_a_reference_of_another_type() -> None:
    with pytest.raises(InvalidSecretValue) as caught:
        serialize_value(ROLE_REF, SecretText("sqz-key"))
    assert str(caught.value) == (
        "srn:vault::acme:aws-cross-account-role:connect: a reference of type aws-cross-account-role holds a"
        " CrossAccountRole, not a SecretText"
    )


def test_a_document_that_is_not_plain_json_is_refused() -> None:
    with pytest.raises(InvalidSecretValue, match="the document is not plain JSON"):
        serialize_value(DOC_REF, SecretDoc({"when": {1, 2}}))


@pytest.mark.parametrize(
    "value",
    [CrossAccountRole(ARN, EXTERNAL_ID), SecretDoc({"SecretAccessKey": "wJalrXUtnFEMI"}), SecretText("sqz-key")],
)
def test_a_value_shows_its_type_only(value: object) -> None:
    assert repr(value) == str(value) == f"{type(value).__name__}(<hidden>)"
    assert f"{[value]}" == f"[{type(value).__name__}(<hidden>)]"
