"""A `serve` configuration that is not JSON is refused at its line and column, as worker files are."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.serve_config import InvalidServeConfig, load_serve_config
from tests.support.cli import cli

# The operator's usual slip: a trailing comma after the last field, on line 3.
WITH_A_TRAILING_COMMA = b'{"data_dir": "/var/lib/connect-worker",\n "api_port": 8080,\n "api_host": "127.0.0.1",\n}\n'


def test_a_trailing_comma_is_named_by_line_and_column() -> None:
    with pytest.raises(InvalidServeConfig) as refused:
        load_serve_config(WITH_A_TRAILING_COMMA)
    assert str(refused.value) == "line 3, column 25: JSON syntax error: trailing comma in object"


def test_a_file_cut_short_is_named_at_its_end() -> None:
    with pytest.raises(InvalidServeConfig) as refused:
        load_serve_config(b'{"data_dir": "/var/lib/connect-worker",\n "regions": {')
    assert str(refused.value) == "line 2, column 14: JSON syntax error: input data was truncated"


def test_serve_and_the_log_commands_name_the_file_and_the_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "serve.json"
    config.write_bytes(WITH_A_TRAILING_COMMA)

    code, out, _ = cli(capsys, "serve", "--config", str(config))
    assert (code, out) == (2, f"serve: {config}: line 3, column 25: JSON syntax error: trailing comma in object\n")

    with pytest.raises(SystemExit) as exited:
        cli(capsys, "status", "--config", str(config))
    assert exited.value.code == 2
    assert f"argument --config: {config}: line 3, column 25: JSON syntax error" in capsys.readouterr().err
