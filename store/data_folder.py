"""The data folder holds secrets: the event store (participant tokens, the API clients' secrets)
and the token and signing-secret files. It is kept readable by its owner only.

`prepare_data_folder` creates a missing folder 0700 and refuses, with the command that fixes it,
to start on a folder where one of those files is readable by group or others: the store's files,
and every file whose name holds "token" or "secret" (other files, a worker's JSON say, are not
checked). The store creates its SQLite file 0600 itself (`EventStore.open`), and SQLite gives the
-wal and -shm files the mode of the database file, so under any umask they are owner-only too.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from store.errors import StoreError

STORE_FILE = "events.db"
STORE_FILES = (STORE_FILE, f"{STORE_FILE}-wal", f"{STORE_FILE}-shm", f"{STORE_FILE}-journal")
# The naming rule for the secrets kept beside the store (api-token, demo-client-signing-secret, ...).
SECRET_NAME_PARTS = ("token", "secret")
_GROUP_OR_OTHERS_READ = stat.S_IRGRP | stat.S_IROTH


class DataFolderNotPrivate(StoreError):
    """Files in the data folder can be read by other users; `paths` names each."""

    def __init__(self, paths: list[Path]) -> None:
        fixes = "; ".join(f"chmod 600 {path}" for path in paths)
        super().__init__(
            f"{', '.join(map(str, paths))}: other users can read it, and the data folder holds tokens;"
            f" make it readable by its owner only: {fixes}"
        )
        self.paths = paths


class DataFolderUnusable(StoreError):
    """The data folder cannot be made or read (a file in its place, a parent that is missing or not
    writable); the message names it and says the system's reason."""


def prepare_data_folder(path: Path) -> None:
    """Create the data folder owner-only if it is missing; refuse one whose secrets others can read,
    and one that cannot be made or read (`DataFolderUnusable`)."""
    try:
        create_private_folder(path)
        files = private_files(path)  # NotADirectoryError for a file in the folder's place
    except OSError as error:
        raise DataFolderUnusable(f"data folder {path}: cannot be used: {error.strerror or error}") from None
    exposed = [file for file in sorted(files) if _readable_by_others(file)]
    if exposed:
        raise DataFolderNotPrivate(exposed)


def create_private_folder(path: Path) -> None:
    """Create `path` (and missing parents) with mode 0700 whatever the umask; an existing one is left as it is."""
    try:
        path.mkdir(parents=True)
    except FileExistsError:
        return
    os.chmod(path, 0o700)


def private_files(path: Path) -> list[Path]:
    """The files of the data folder that must be owner-only: the store's, and any named as a secret."""
    return [
        file
        for file in path.iterdir()
        if file.is_file()
        and (file.name in STORE_FILES or any(part in file.name for part in SECRET_NAME_PARTS))
    ]


def _readable_by_others(path: Path) -> bool:
    try:
        return bool(path.stat().st_mode & _GROUP_OR_OTHERS_READ)
    except FileNotFoundError:
        return False
