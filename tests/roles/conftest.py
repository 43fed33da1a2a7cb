"""A local vault in a fresh store's file, and moto's IAM and STS with the service's principal."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from store import EventStore
from store.data_folder import prepare_data_folder
from tests.support.aws_roles import MotoRoles, moto_roles
from vault import LocalVault


@pytest.fixture
def vault(tmp_path: Path) -> Iterator[LocalVault]:
    prepare_data_folder(tmp_path / "data")
    with EventStore.open(tmp_path / "data" / "events.db") as store:
        yield LocalVault(store.path)


@pytest.fixture
def aws() -> Iterator[MotoRoles]:
    with moto_roles() as roles:
        yield roles
