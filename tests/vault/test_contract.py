"""What every backend of the vault does, the same way: each test runs on the local vault and on
Secrets Manager (moto)."""

from __future__ import annotations

import pytest

from vault import (
    CrossAccountRole,
    InvalidSecretValue,
    SecretDoc,
    SecretNotFound,
    SecretText,
    Vault,
    parse_reference,
)

ROLE_REF = parse_reference("srn:vault::acme:aws-cross-account-role:connect")
CONNECTOR_ROLE_REF = parse_reference("srn:vault::acme:cross-account-role:translate")
DOC_REF = parse_reference("srn:vault::acme:secretdoc:translatesecret")
KEY_REF = parse_reference("srn:vault::acme:secret:squeeze")
ODD_REF = parse_reference("srn:vault::acme/eu:secret:key/with=odd@chars-é")

VALUES = [
    (ROLE_REF, CrossAccountRole("arn:aws:iam::123456789012:role/ConnectWorker", "ext-7f3a9c")),
    (CONNECTOR_ROLE_REF, CrossAccountRole("arn:aws:iam::210987654321:role/path/Translate", "ext-2")),
    (DOC_REF, SecretDoc({"AccessKeyId": "AKIAEXAMPLE", "SecretAccessKey": "wJalrXUtnFEMI/K7MDENG"})),
    (KEY_REF, SecretText("sqz-key-1")),
    (ODD_REF, SecretText("odd-key")),
]


@pytest.fixture(params=["local", "secretsmanager"])
def vault(request: pytest.FixtureRequest) -> Vault:
    return request.getfixturevalue(f"{request.param}_vault")


@pytest.mark.parametrize(("reference", "value"), VALUES, ids=[str(r) for r, _ in VALUES])
def test_a_value_put_is_got_back_equal(vault: Vault, reference: object, value: object) -> None:
    vault.put(reference, value)
    assert vault.get(reference) == value


def test_put_replaces_the_value_and_keeps_when_it_was_created(vault: Vault) -> None:
    vault.put(KEY_REF, SecretText("sqz-key-1"))
    first = vault.describe(KEY_REF)
    vault.put(KEY_REF, SecretText("sqz-key-2"))
    assert vault.get(KEY_REF) == SecretText("sqz-key-2")
    second = vault.describe(KEY_REF)
    assert second.created == first.created
    assert second.updated >= first.updated
    assert second.created.utcoffset() is not None and second.created.utcoffset().total_seconds() == 0
    assert [info.reference for info in vault.list()] == [KEY_REF]


def test_list_names_every_reference_in_order_and_what_describe_says(vault: Vault) -> None:
    for reference, value in reversed(VALUES):
        vault.put(reference, value)
    listed = vault.list()
    assert [info.reference for info in listed] == sorted((r for r, _ in VALUES), key=str)
    assert listed == [vault.describe(info.reference) for info in listed]


def test_a_deleted_reference_is_gone_and_may_be_put_again(vault: Vault) -> None:
    vault.put(KEY_REF, SecretText("sqz-key-1"))
    vault.put(DOC_REF, SecretDoc({"k": "v"}))
    vault.delete(KEY_REF)
    with pytest.raises(SecretNotFound):
        vault.get(KEY_REF)
    assert [info.reference for info in vault.list()] == [DOC_REF]
    vault.put(KEY_REF, SecretText("sqz-key-2"))
    assert vault.get(KEY_REF) == SecretText("sqz-key-2")


@pytest.mark.parametrize("operation", ["get", "describe", "delete"])
def test_a_missing_secret_is_a_typed_error_naming_the_reference(vault: Vault, operation: str) -> None:
    vault.put(DOC_REF, SecretDoc({"k": "v"}))
    with pytest.raises(SecretNotFound) as caught:
        getattr(vault, operation)(KEY_REF)
    assert caught.value.reference == KEY_REF
    assert str(caught.value).startswith("no secret srn:vault::acme:secret:squeeze in ")


def test_a_value_of_the_wrong_type_is_refused_and_nothing_is_stored(vault: Vault) -> None:
    with pytest.raises(InvalidSecretValue):
        vault.put(ROLE_REF, SecretText("arn:aws:iam::123456789012:role/ConnectWorker"))
    assert vault.list() == []
