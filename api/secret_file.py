"""Files that hold a secret (the embedded default's demo client token): readable by their owner only."""

from __future__ import annotations

import os
from pathlib import Path


def write_secret_file(path: Path, secret: str) -> None:
    """Write `secret` to `path`, replacing any file there, created with mode 0600 before a byte is written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secret + "\n")
