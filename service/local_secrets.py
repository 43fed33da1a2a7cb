"""Values of vault references, until the vault exists: `DATA/local-secrets.json`.

    {"srn:vault::acme:secret:squeeze": "the short-link API's key"}

The file sits in the data folder, so the service refuses to start when others can read it (its
name holds "secret"). A reference it lacks has no value, and what needs it goes without (a link is
then sent as written). The vault will answer the same question in its place.
"""

from __future__ import annotations

import json
from pathlib import Path

LOCAL_SECRETS_FILE = "local-secrets.json"


class LocalSecrets:
    def __init__(self, path: Path) -> None:
        self._path = path

    def __call__(self, reference: str) -> str | None:
        """The value of the vault reference, read from the file each time (so an edit needs no restart)."""
        try:
            values = json.loads(self._path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as error:
            raise ValueError(f"{self._path}: not a JSON object of vault references and values ({error})") from None
        value = values.get(reference) if isinstance(values, dict) else None
        return value if isinstance(value, str) else None
