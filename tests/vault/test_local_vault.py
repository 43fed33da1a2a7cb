"""The local vault: values encrypted at rest in the store's file, the key owner-only beside it, and a
lost, wrong or altered key or entry refused in words."""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from store.data_folder import DataFolderNotPrivate, prepare_data_folder
from vault import CrossAccountRole, LocalVault, SecretDoc, SecretText, VaultUnavailable, parse_reference
from vault.key_file import create_key
from vault.local import KEY_FILE

ROLE_REF = parse_reference("srn:vault::acme:aws-cross-account-role:connect")
DOC_REF = parse_reference("srn:vault::acme:secretdoc:translatesecret")
KEY_REF = parse_reference("srn:vault::acme:secret:squeeze")

ROLE_ARN = "arn:aws:iam::123456789012:role/RoleArnNeverInTheFile"
EXTERNAL_ID = "external-id-never-in-the-file"
DOC_VALUE = "doc-value-never-in-the-file"
KEY = "squeeze-key-never-in-the-file"


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    """Umask 022, as on most systems: left to it, a new file would be 0644."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def everything_on_disk(folder: Path) -> bytes:
    """The bytes of every file in the data folder: the store's file, its WAL and shared memory, the key."""
    return b"".join(path.read_bytes() for path in sorted(folder.iterdir()) if path.is_file())


def test_values_are_never_in_the_data_folder_in_the_clear(local_vault: LocalVault, store_path: Path) -> None:
    local_vault.put(ROLE_REF, CrossAccountRole(ROLE_ARN, EXTERNAL_ID))
    local_vault.put(DOC_REF, SecretDoc({"SecretAccessKey": DOC_VALUE}))
    local_vault.put(KEY_REF, SecretText(KEY))
    on_disk = everything_on_disk(store_path.parent)
    assert str(KEY_REF).encode() in on_disk  # the references are plain: this is the file they are in
    for value in (ROLE_ARN, EXTERNAL_ID, DOC_VALUE, KEY):
        assert value.encode() not in on_disk
        assert value.encode("utf-16-le") not in on_disk
    assert local_vault.get(KEY_REF) == SecretText(KEY)


def test_the_values_are_in_the_stores_file_in_their_own_table(local_vault: LocalVault, store_path: Path) -> None:
    local_vault.put(KEY_REF, SecretText(KEY))
    with sqlite3.connect(store_path) as conn:
        [(reference, sealed)] = conn.execute("SELECT reference, sealed FROM vault_secrets").fetchall()
    assert reference == str(KEY_REF)
    assert KEY.encode() not in sealed


def test_the_key_is_made_on_the_first_put_owner_only(local_vault: LocalVault, store_path: Path) -> None:
    key_file = store_path.parent / KEY_FILE
    local_vault.list()
    assert not key_file.exists()
    local_vault.put(KEY_REF, SecretText(KEY))
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert [path.name for path in store_path.parent.iterdir() if path.name.startswith(".")] == []


def test_the_key_file_is_owner_only_under_an_umask_that_would_take_its_owners_rights(store_path: Path) -> None:
    os.umask(0o277)
    LocalVault(store_path).put(KEY_REF, SecretText(KEY))
    assert stat.S_IMODE((store_path.parent / KEY_FILE).stat().st_mode) == 0o600


def test_the_data_folder_refuses_to_start_when_others_can_read_the_key(local_vault: LocalVault, store_path: Path) -> None:
    local_vault.put(KEY_REF, SecretText(KEY))
    key_file = store_path.parent / KEY_FILE
    key_file.chmod(0o644)
    with pytest.raises(DataFolderNotPrivate) as caught:
        prepare_data_folder(store_path.parent)
    assert caught.value.paths == [key_file]


def test_another_vault_on_the_same_file_reads_what_one_wrote(local_vault: LocalVault, store_path: Path) -> None:
    local_vault.put(KEY_REF, SecretText(KEY))
    assert LocalVault(store_path).get(KEY_REF) == SecretText(KEY)


def test_a_lost_key_is_to_be_restored_not_replaced(local_vault: LocalVault, store_path: Path) -> None:
    local_vault.put(KEY_REF, SecretText(KEY))
    key_file = store_path.parent / KEY_FILE
    key_file.unlink()
    restarted = LocalVault(store_path)
    for attempt in (lambda: restarted.get(KEY_REF), lambda: restarted.put(DOC_REF, SecretDoc({}))):
        with pytest.raises(VaultUnavailable) as caught:
            attempt()
        assert str(caught.value) == f"{key_file} is missing, and only it can read the vault's entries; restore it"
    assert not key_file.exists()


def test_another_vaults_key_cannot_read_the_entries(local_vault: LocalVault, store_path: Path, tmp_path: Path) -> None:
    local_vault.put(KEY_REF, SecretText(KEY))
    create_key(tmp_path / KEY_FILE)
    (store_path.parent / KEY_FILE).write_bytes((tmp_path / KEY_FILE).read_bytes())
    with pytest.raises(VaultUnavailable, match=r"squeeze: its entry cannot be decrypted with .*vault-secret\.key"):
        LocalVault(store_path).get(KEY_REF)


def test_an_entry_moved_under_another_reference_is_refused(local_vault: LocalVault, store_path: Path) -> None:
    other_ref = parse_reference("srn:vault::acme:secret:other")
    local_vault.put(KEY_REF, SecretText(KEY))
    local_vault.put(other_ref, SecretText("other"))
    with sqlite3.connect(store_path) as conn:
        conn.execute(
            "UPDATE vault_secrets SET sealed = (SELECT sealed FROM vault_secrets WHERE reference = ?) WHERE reference = ?",
            (str(KEY_REF), str(other_ref)),
        )
    with pytest.raises(VaultUnavailable, match="its entry was sealed for another reference"):
        local_vault.get(other_ref)


def test_a_key_file_that_holds_no_key_is_named(local_vault: LocalVault, store_path: Path) -> None:
    local_vault.put(KEY_REF, SecretText(KEY))
    (store_path.parent / KEY_FILE).write_text("not a key\n")
    with pytest.raises(VaultUnavailable, match="vault-secret.key: not a vault key"):
        LocalVault(store_path).get(KEY_REF)


def test_no_store_file_is_refused_and_none_is_made(tmp_path: Path) -> None:
    missing = tmp_path / "events.db"
    with pytest.raises(VaultUnavailable, match="cannot open the event store's file"):
        LocalVault(missing)
    assert not missing.exists()


def test_processes_making_the_key_at_once_end_up_with_one(tmp_path: Path) -> None:
    path = tmp_path / KEY_FILE
    barrier = threading.Barrier(8)
    keys = []

    def make() -> None:
        barrier.wait()
        keys.append(create_key(path))

    threads = [threading.Thread(target=make) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    token = keys[0].encrypt(b"x")
    assert all(key.decrypt(token) == b"x" for key in keys)
    assert [p.name for p in tmp_path.iterdir()] == [KEY_FILE]
