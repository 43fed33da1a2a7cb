"""The bots' API clients: what every registry of them offers (`ApiClients`), and the SQLite one, a
table of the event store's file (`ClientRegistry`). With the log in DynamoDB they are items of its
table instead (`store/dynamo_clients.py`), so that a bot's token works at every node.

Each client (a bot) has a bearer token and a webhook signing secret. Why a
table and not events: these are secrets. The event log is exported
(`replay`, `events tail`) and replayed, and whatever is in it is kept for
good; a secret in it would leak into every export and could never be revoked
from history. So the log only ever names a client by its id
(`Transferred.client_id`), and the secrets live here:

- the token only as its SHA-256 (a token is 32 random bytes, so a fast hash
  cannot be brute-forced and needs no salt or stretching); it is shown once,
  at creation, and cannot be read back;
- the signing secret as is (the deliverer needs it to sign), in the Standard
  Webhooks form `whsec_<base64 of 32 random bytes>`.

Revoking keeps the row (its id stays taken and `client list` shows when) and
refuses the token from then on, in every process sharing the file (or the table).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from store.checkpointer import without_automatic_checkpoints
from store.tables import ensure_tables

if TYPE_CHECKING:
    from sqlite_utils import Database

BUSY_TIMEOUT_MS = 10_000
TOKEN_BYTES = 32
SIGNING_SECRET_BYTES = 32
SIGNING_SECRET_PREFIX = "whsec_"
_COLUMNS = "id, name, admin, allowed_hosts, created_at, revoked_at"


class UnknownClient(LookupError):
    def __init__(self, client_id: str) -> None:
        super().__init__(f"no client with id {client_id!r}")
        self.client_id = client_id


@dataclass(frozen=True)
class Client:
    """A client as anyone may see it: no token, no secret."""

    id: str
    name: str
    admin: bool
    allowed_hosts: tuple[str, ...]  # empty: any webhook host the API's default rule accepts
    created_at: float
    revoked_at: float | None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


@dataclass(frozen=True)
class NewClient:
    """What `create` returns, the only time the token can be read."""

    client: Client
    token: str
    signing_secret: str


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_client(name: str, *, admin: bool, allowed_hosts: tuple[str, ...], at: float) -> NewClient:
    """A client with a fresh id, token and signing secret, for a registry to store (the one recipe)."""
    signing_secret = SIGNING_SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SIGNING_SECRET_BYTES)).decode()
    client = Client(
        id="cl-" + secrets.token_hex(8),
        name=name,
        admin=admin,
        allowed_hosts=tuple(host.lower() for host in allowed_hosts),
        created_at=at,
        revoked_at=None,
    )
    return NewClient(client, secrets.token_urlsafe(TOKEN_BYTES), signing_secret)


class ApiClients(Protocol):
    """The API clients, wherever they are kept: the SQLite file's table (`ClientRegistry`) or the
    DynamoDB table of the log (`DynamoClientRegistry`). `clients_of(log)` (store/clients_of.py) opens
    the one that goes with a log."""

    def create(self, name: str, *, admin: bool = False, allowed_hosts: tuple[str, ...] = ()) -> NewClient: ...

    def list(self) -> list[Client]:
        """Every client, revoked ones too, oldest first."""

    def get(self, client_id: str) -> Client:
        """The client; UnknownClient if there is none with that id."""

    def revoke(self, client_id: str) -> Client:
        """Refuse the client's token from now on (revoking twice keeps the first time); UnknownClient."""

    def authenticate(self, token: str) -> Client | None:
        """The client whose token this is, unless it is revoked; None for any token not ours."""

    def signing_secret(self, client_id: str | None) -> str | None:
        """The `whsec_` secret the client's webhooks are signed with; None for no client or an unknown one."""

    def close(self) -> None: ...

    def __enter__(self) -> ApiClients: ...

    def __exit__(self, *exc_info: object) -> None: ...


class SigningSecrets:
    """`signing_secret(client_id)` of a registry, each client's read once and then kept in memory.

    A client's signing secret never changes: `new_client` makes it with the client, and nothing, in
    either registry, writes it again (no call or command replaces it; a revoke refuses the token only).
    So what was read once is the answer for good, and the webhook deliverer, which asks at every POST,
    asks memory instead of the SQLite file (a query behind the lock the API's token check takes) or
    DynamoDB (a GetItem). An unknown client (None) is not kept: it is asked again next time.
    Safe to share between threads: a dict read or write is atomic, and two first reads at once read
    the same value.
    """

    def __init__(self, lookup: Callable[[str | None], str | None]) -> None:
        self._lookup = lookup
        self._known: dict[str, str] = {}

    def __call__(self, client_id: str | None) -> str | None:
        if client_id is None:
            return None
        secret = self._known.get(client_id)
        if secret is None:
            secret = self._lookup(client_id)
            if secret is not None:
                self._known[client_id] = secret
        return secret


def _make_clients_table(db: Database) -> None:
    db["api_clients"].create(
        {
            "id": str,
            "name": str,
            "admin": int,
            "allowed_hosts": str,  # a JSON array
            "token_sha256": str,
            "signing_secret": str,
            "created_at": float,
            "revoked_at": float,
        },
        pk="id",
        not_null={"name", "admin", "allowed_hosts", "token_sha256", "signing_secret", "created_at"},
        if_not_exists=True,
    )
    db["api_clients"].create_index(
        ["token_sha256"], index_name="api_clients_token", unique=True, if_not_exists=True
    )


class ClientRegistry:
    """The clients table in the SQLite file. Open it on a file the `EventStore` has already created."""

    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        self._conn.execute("PRAGMA journal_mode=WAL")
        # The store's checkpointer moves the WAL into the database, off our commits.
        without_automatic_checkpoints(self._conn)
        ensure_tables(self._conn, {"api_clients", "api_clients_token"}, _make_clients_table)

    def create(self, name: str, *, admin: bool = False, allowed_hosts: tuple[str, ...] = ()) -> NewClient:
        made = new_client(name, admin=admin, allowed_hosts=allowed_hosts, at=time.time())
        client = made.client
        with self._lock:
            self._conn.execute(
                "INSERT INTO api_clients (id, name, admin, allowed_hosts, token_sha256, signing_secret, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    client.id,
                    client.name,
                    int(client.admin),
                    json.dumps(list(client.allowed_hosts)),
                    hash_token(made.token),
                    made.signing_secret,
                    client.created_at,
                ),
            )
        return made

    def list(self) -> list[Client]:
        """Every client, revoked ones too, oldest first."""
        with self._lock:
            rows = self._conn.execute(f"SELECT {_COLUMNS} FROM api_clients ORDER BY created_at, id").fetchall()
        return [_client(row) for row in rows]

    def get(self, client_id: str) -> Client:
        with self._lock:
            row = self._conn.execute(f"SELECT {_COLUMNS} FROM api_clients WHERE id = ?", (client_id,)).fetchone()
        if row is None:
            raise UnknownClient(client_id)
        return _client(row)

    def revoke(self, client_id: str) -> Client:
        """Refuse the client's token from now on (revoking twice keeps the first time)."""
        with self._lock:
            self._conn.execute(
                "UPDATE api_clients SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?", (time.time(), client_id)
            )
        return self.get(client_id)

    def authenticate(self, token: str) -> Client | None:
        """The client whose token this is, unless it is revoked; None for any token not ours."""
        digest = hash_token(token)
        with self._lock:
            row = self._conn.execute(
                f"SELECT {_COLUMNS}, token_sha256 FROM api_clients WHERE token_sha256 = ?", (digest,)
            ).fetchone()
        # The lookup is by hash, so its timing says nothing about the token; the comparison is constant
        # time anyway, so no index or engine detail can turn into an oracle.
        if row is None or not secrets.compare_digest(row[-1], digest):
            return None
        client = _client(row[:-1])
        return None if client.revoked else client

    def signing_secret(self, client_id: str | None) -> str | None:
        """The `whsec_` secret the client's webhooks are signed with; None for no client or an unknown one."""
        if client_id is None:
            return None
        with self._lock:
            row = self._conn.execute("SELECT signing_secret FROM api_clients WHERE id = ?", (client_id,)).fetchone()
        return None if row is None else row[0]

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> ClientRegistry:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _client(row: tuple) -> Client:
    client_id, name, admin, allowed_hosts, created_at, revoked_at = row
    return Client(client_id, name, bool(admin), tuple(json.loads(allowed_hosts)), created_at, revoked_at)
