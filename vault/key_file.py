"""The local vault's key: a Fernet key in a file of its own, readable by its owner only.

The file is written whole under a temporary name with mode 0600 (set again after opening, whatever
the umask) and then linked to its name, which fails if the name is taken: two processes creating the
key at once end up with the same key, and no reader ever sees half a file.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet

from vault.errors import VaultUnavailable


def read_key(path: Path) -> Fernet | None:
    """The key in `path`, or None if there is no file; `VaultUnavailable` if it holds no Fernet key."""
    try:
        key = path.read_bytes().strip()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise VaultUnavailable(f"{path}: cannot read the vault's key ({error.strerror})") from None
    try:
        return Fernet(key)
    except ValueError:
        raise VaultUnavailable(f"{path}: not a vault key (a Fernet key: 32 bytes in URL-safe base64)") from None


def create_key(path: Path) -> Fernet:
    """A new key in `path`, created 0600; if another process made one first, that one."""
    draft = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(descriptor, 0o600)
        os.write(descriptor, Fernet.generate_key() + b"\n")
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    try:
        os.link(draft, path)
    except FileExistsError:
        pass
    finally:
        draft.unlink()
    _sync_folder(path.parent)
    found = read_key(path)
    if found is None:
        raise VaultUnavailable(f"{path}: the vault's key was removed as it was created")
    return found


def _sync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
