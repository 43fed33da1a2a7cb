"""The short-link API's key comes from the vault: a `secret` reference's text, or None (links go as
written) with one warning that says why, and never a value in it."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from service.short_link_key import short_link_key
from store import EventStore
from store.data_folder import prepare_data_folder
from vault import LocalVault, SecretDoc, SecretsManagerVault, SecretText, parse_reference
from vault.local import KEY_FILE

KEY_REF = "srn:vault::acme:secret:squeeze"
KEY = "sqz-key-never-logged"


@pytest.fixture
def local_vault(tmp_path: Path) -> Iterator[LocalVault]:
    prepare_data_folder(tmp_path / "data")
    with EventStore.open(tmp_path / "data" / "events.db") as store:
        yield LocalVault(store.path)


def test_the_key_is_the_text_the_vault_holds(local_vault: LocalVault, caplog: pytest.LogCaptureFixture) -> None:
    key = short_link_key(local_vault)
    assert key(KEY_REF) is None
    local_vault.put(parse_reference(KEY_REF), SecretText(KEY))
    assert key(KEY_REF) == KEY
    assert caplog.records == []


def test_the_key_may_be_in_secrets_manager() -> None:
    with mock_aws():
        boto3.client("secretsmanager", region_name="eu-west-2").create_secret(
            Name="connect-worker/acme/secret/squeeze", SecretString=KEY
        )
        assert short_link_key(SecretsManagerVault.create("eu-west-2"))(KEY_REF) == KEY


@pytest.mark.parametrize(
    ("reference", "said"),
    [
        ("srn:vault::acme:secretdoc:squeeze", "ShortLinkConfig.Config.ApiKey: srn:vault::acme:secretdoc:squeeze is a secretdoc reference"),
        ("srn:vault::acme:password:squeeze", "ShortLinkConfig.Config.ApiKey: unknown vault type 'password'"),
    ],
)
def test_a_reference_that_cannot_hold_a_key_is_no_key_and_says_why(
    local_vault: LocalVault, caplog: pytest.LogCaptureFixture, reference: str, said: str
) -> None:
    local_vault.put(parse_reference("srn:vault::acme:secretdoc:squeeze"), SecretDoc({"key": KEY}))
    with caplog.at_level(logging.WARNING):
        assert short_link_key(local_vault)(reference) is None
    [record] = caplog.records
    assert record.getMessage().startswith(f"short links: no key: {said}")
    assert KEY not in caplog.text


def test_a_vault_that_cannot_answer_is_no_key_and_says_why(
    local_vault: LocalVault, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    local_vault.put(parse_reference(KEY_REF), SecretText(KEY))
    (tmp_path / "data" / KEY_FILE).unlink()
    restarted = LocalVault(tmp_path / "data" / "events.db")
    with caplog.at_level(logging.WARNING):
        assert short_link_key(restarted)(KEY_REF) is None
    assert "short links: no key: " in caplog.text and "vault-secret.key is missing" in caplog.text
    assert KEY not in caplog.text
