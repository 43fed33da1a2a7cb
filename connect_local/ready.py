"""The ready file: once the server listens, a JSON object with what scripts
need to drive it, written atomically (a temporary file, then a rename) so a
reader never sees half of it."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


class ReadyFileUnwritable(Exception):
    """The ready file cannot be written where it was asked for; the message names it and says why."""


def write_ready_file(path: Path, info: dict[str, Any]) -> None:
    """Raises ReadyFileUnwritable, whatever stops it (a missing or unwritable folder, a folder at `path`,
    a full disk), and leaves no temporary file behind."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as error:
        raise _unwritable(path, error) from None
    try:
        with os.fdopen(descriptor, "w") as handle:
            json.dump(info, handle, indent=2)
        os.replace(temporary, path)
    except BaseException as error:
        os.unlink(temporary)
        if isinstance(error, OSError):
            raise _unwritable(path, error) from None
        raise


def _unwritable(path: Path, error: OSError) -> ReadyFileUnwritable:
    return ReadyFileUnwritable(f"cannot write the ready file {path}: {error.strerror or error}")
