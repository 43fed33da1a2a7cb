"""The local vault: a table of the event store's SQLite file, each value encrypted with Fernet under a
key kept in a file beside it (`vault-secret.key`, 0600, made on the first `put`).

    vault = LocalVault(Path("data/events.db"))
    vault.put(parse_reference("srn:vault::acme:secret:squeeze"), SecretText("sqz-key"))

Why the store's file rather than a file of its own: SQLite already gives what a secrets file would
have to build (atomic replacement, several processes at once: `run.py secret put` while `serve`
reads), the store's file is created owner-only and checked at every start, and it is one file less to
back up. Why the key in a file of its own: a copy of the database (a backup, a file attached to a bug
report) reveals no value without it. The key file's name holds "secret", so the data folder's rule
(`store/data_folder.py`) refuses to start when others can read it.

In the table (`vault_secrets`), the reference and its created and updated times are plain; the value
never is. Each entry is sealed as `{"reference", "value"}` (the value's text form, `vault.values`),
so an entry moved under another reference is refused rather than read as that one's.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from store.checkpointer import without_automatic_checkpoints
from vault.errors import SecretNotFound, VaultUnavailable
from vault.interface import SecretInfo
from vault.key_file import create_key, read_key
from vault.references import VaultRef, parse_reference
from vault.values import VaultValue, parse_value, serialize_value

KEY_FILE = "vault-secret.key"
BUSY_TIMEOUT_MS = 10_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS vault_secrets (
    reference TEXT PRIMARY KEY,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    sealed BLOB NOT NULL
) STRICT
"""


class LocalVault:
    """The vault in the event store's file. Open it on a file the `EventStore` has already created.

    Safe to share between threads; every call uses a connection of its own, so it holds nothing open.
    """

    def __init__(self, store_path: Path, *, clock: Callable[[], float] = time.time) -> None:
        self._path = store_path
        self.key_path = store_path.parent / KEY_FILE
        self._clock = clock
        self._where = f"the local vault ({store_path})"
        self._key_lock = threading.Lock()
        self._fernet: Fernet | None = None
        with self._connection() as conn:
            conn.execute(_SCHEMA)

    def get(self, reference: VaultRef) -> VaultValue:
        with self._connection() as conn:
            row = conn.execute("SELECT sealed FROM vault_secrets WHERE reference = ?", (str(reference),)).fetchone()
        if row is None:
            raise SecretNotFound(reference, self._where)
        try:
            sealed = json.loads(self._key(may_create=False).decrypt(row[0]))
        except InvalidToken:
            raise VaultUnavailable(
                f"{reference}: its entry cannot be decrypted with {self.key_path}"
                " (another vault's key, or an altered entry)"
            ) from None
        if sealed["reference"] != str(reference):
            raise VaultUnavailable(f"{reference}: its entry was sealed for another reference; the vault was altered")
        return parse_value(reference, sealed["value"])

    def put(self, reference: VaultRef, value: VaultValue) -> None:
        text = serialize_value(reference, value)
        sealed = self._key(may_create=True).encrypt(json.dumps({"reference": str(reference), "value": text}).encode())
        now = self._clock()
        with self._connection() as conn:
            conn.execute(
                "INSERT INTO vault_secrets (reference, created_at, updated_at, sealed) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (reference) DO UPDATE SET updated_at = excluded.updated_at, sealed = excluded.sealed",
                (str(reference), now, now, sealed),
            )

    def delete(self, reference: VaultRef) -> None:
        with self._connection() as conn:
            deleted = conn.execute("DELETE FROM vault_secrets WHERE reference = ?", (str(reference),)).rowcount
        if not deleted:
            raise SecretNotFound(reference, self._where)

    def describe(self, reference: VaultRef) -> SecretInfo:
        with self._connection() as conn:
            row = conn.execute(
                "SELECT created_at, updated_at FROM vault_secrets WHERE reference = ?", (str(reference),)
            ).fetchone()
        if row is None:
            raise SecretNotFound(reference, self._where)
        return SecretInfo(reference, _utc(row[0]), _utc(row[1]))

    def list(self) -> list[SecretInfo]:
        with self._connection() as conn:
            rows = conn.execute(
                "SELECT reference, created_at, updated_at FROM vault_secrets ORDER BY reference"
            ).fetchall()
        return [SecretInfo(parse_reference(ref), _utc(created), _utc(updated)) for ref, created, updated in rows]

    def _key(self, *, may_create: bool) -> Fernet:
        """The vault's key, read once. It is made only for a first `put` into an empty vault: a vault
        that holds entries and has lost its key must have it restored, not replaced."""
        with self._key_lock:
            if self._fernet is None:
                self._fernet = read_key(self.key_path)
            if self._fernet is None:
                if not may_create or self._holds_entries():
                    raise VaultUnavailable(
                        f"{self.key_path} is missing, and only it can read the vault's entries; restore it"
                    )
                self._fernet = create_key(self.key_path)
            return self._fernet

    def _holds_entries(self) -> bool:
        with self._connection() as conn:
            return conn.execute("SELECT EXISTS (SELECT 1 FROM vault_secrets)").fetchone()[0] == 1

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        # mode=rw: never create the file (the store does, owner-only).
        try:
            conn = sqlite3.connect(self._path.resolve().as_uri() + "?mode=rw", uri=True, isolation_level=None)
        except sqlite3.Error as error:
            raise VaultUnavailable(f"{self._path}: cannot open the event store's file ({error})") from None
        try:
            conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            # The store's checkpointer moves the WAL into the database, off our commits.
            without_automatic_checkpoints(conn)
            yield conn
        except sqlite3.Error as error:
            raise VaultUnavailable(f"{self._path}: {error}") from None
        finally:
            conn.close()


def _utc(at: float) -> datetime:
    return datetime.fromtimestamp(at, timezone.utc)
