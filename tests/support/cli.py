"""Running `run.py` commands in the test's own process, and the JSON files they read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import run


def cli(capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, str, str]:
    """`run.py ARGUMENTS`: its exit code, stdout and stderr."""
    code = run.main(list(arguments))
    out, err = capsys.readouterr()
    return code, out, err


def json_file(path: Path, document: dict[str, Any]) -> Path:
    """`document` written to `path` as indented JSON, as an operator would write a worker or connector file."""
    path.write_text(json.dumps(document, indent=2))
    return path
