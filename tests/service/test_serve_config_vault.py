"""`serve`'s configuration picks the vault: local by default, or Secrets Manager in a region."""

from __future__ import annotations

from pathlib import Path

import pytest
from moto import mock_aws

from service.serve_config import (
    InvalidServeConfig,
    LocalVaultConfig,
    SecretsManagerVaultConfig,
    load_serve_config,
    open_vault,
)
from store import EventStore
from store.data_folder import prepare_data_folder
from vault import LocalVault, SecretsManagerVault, SecretText, parse_reference


def test_the_local_vault_is_the_default(tmp_path: Path) -> None:
    assert load_serve_config(b'{"data_dir": "d"}').vault == LocalVaultConfig()
    assert load_serve_config(b'{"data_dir": "d", "vault": {"backend": "local"}}').vault == LocalVaultConfig()
    prepare_data_folder(tmp_path)
    with EventStore.open(tmp_path / "events.db") as store:
        vault = open_vault(LocalVaultConfig(), store.path)
        assert isinstance(vault, LocalVault)
        vault.put(parse_reference("srn:vault::acme:secret:squeeze"), SecretText("k"))
    assert (tmp_path / "vault-secret.key").exists()


def test_secrets_manager_is_picked_with_its_region() -> None:
    config = load_serve_config(
        b'{"data_dir": "d", "vault": {"backend": "secretsmanager", "region": "eu-west-2", "endpoint_url": null}}'
    )
    assert config.vault == SecretsManagerVaultConfig(region="eu-west-2")
    with mock_aws():
        vault = open_vault(config.vault, Path("unused"))
        assert isinstance(vault, SecretsManagerVault)
        reference = parse_reference("srn:vault::acme:secret:squeeze")
        vault.put(reference, SecretText("k"))
        assert vault.get(reference) == SecretText("k")
        assert str(vault.list()[0].reference) == "srn:vault::acme:secret:squeeze"


@pytest.mark.parametrize(
    ("vault", "problem"),
    [
        ('{"backend": "secretsmanager"}', "Object missing required field `region` - at `$.vault`"),
        ('{"backend": "local", "region": "eu-west-2"}', "Object contains unknown field `region` - at `$.vault`"),
        ('{"backend": "hashicorp"}', "Invalid value 'hashicorp' - at `$.vault.backend`"),
        ("{}", "Object missing required field `backend` - at `$.vault`"),
    ],
)
def test_a_vault_section_that_names_no_backend_well_is_refused_by_path(vault: str, problem: str) -> None:
    with pytest.raises(InvalidServeConfig) as caught:
        load_serve_config(f'{{"data_dir": "d", "vault": {vault}}}'.encode())
    assert str(caught.value) == problem
