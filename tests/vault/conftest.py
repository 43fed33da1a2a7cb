"""The vault's backends as the tests use them: the local one in a fresh event store's file, and
Secrets Manager under moto (its fake credentials in the environment)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from store import EventStore
from store.data_folder import prepare_data_folder
from vault import LocalVault, SecretsManagerVault

REGION = "eu-west-2"


@pytest.fixture
def store_path(tmp_path: Path) -> Iterator[Path]:
    """A fresh event store's file in its own data folder (`data/events.db`), as `run.py` makes it."""
    prepare_data_folder(tmp_path / "data")
    with EventStore.open(tmp_path / "data" / "events.db") as store:
        yield store.path


@pytest.fixture
def local_vault(store_path: Path) -> LocalVault:
    return LocalVault(store_path)


@pytest.fixture
def secretsmanager() -> Iterator[Any]:
    """moto's Secrets Manager: a boto3 client on it, for what the tests set or read behind the vault."""
    with mock_aws():
        yield boto3.client("secretsmanager", region_name=REGION)


@pytest.fixture
def secretsmanager_vault(secretsmanager: Any) -> SecretsManagerVault:
    return SecretsManagerVault.create(REGION)
