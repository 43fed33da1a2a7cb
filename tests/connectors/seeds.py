"""The seed's two connector examples, as files: its text with the trailing comma after the last field removed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

TRANSLATE_FILE = Path(__file__).with_name("seed_translate_connector.json")
EMAIL_FILE = Path(__file__).with_name("seed_email_connector.json")


def seed_translate() -> dict[str, Any]:
    return json.loads(TRANSLATE_FILE.read_bytes())


def seed_email() -> dict[str, Any]:
    return json.loads(EMAIL_FILE.read_bytes())
