"""What stops `serve`, the embedded default or `connect-local` from starting is said in one line naming
what and why, never a traceback, with exit code 2 for a mistake (the systemd unit does not restart it,
`RestartPreventExitStatus=2`: a mistake restarted every 5 s is a mistake hidden) and 1 for what may
pass by itself, a port another program holds (the unit tries again)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cli import cli, json_file


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port another program listens on."""
    with socket.create_server(("127.0.0.1", 0)) as taken:
        yield taken.getsockname()[1]


def serve_config(tmp_path: Path, **fields: object) -> Path:
    return json_file(tmp_path / "serve.json", {"data_dir": str(tmp_path / "data"), "api_port": 0, **fields})


def test_serve_refuses_an_address_it_cannot_listen_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], busy_port: int
) -> None:
    code, out, err = cli(capsys, "serve", "--config", str(serve_config(tmp_path, api_port=busy_port)))
    assert (code, out) == (1, f"serve: cannot listen on 127.0.0.1:{busy_port}: Address already in use\n")

    code, out, err = cli(capsys, "serve", "--config", str(serve_config(tmp_path, api_host="no such host!")))
    assert code == 2 and out.startswith("serve: cannot listen on no such host!:0: ") and "Traceback" not in err


def test_serve_refuses_a_port_out_of_range_naming_the_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = serve_config(tmp_path, api_port=70000)
    code, out, _ = cli(capsys, "serve", "--config", str(config))
    assert code == 2 and out.startswith(f"serve: {config}: ") and "$.api_port" in out, out


def test_serve_refuses_a_data_folder_it_cannot_use(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a_file = tmp_path / "not-a-folder"
    a_file.write_text("")
    code, out, err = cli(capsys, "serve", "--config", str(serve_config(tmp_path, data_dir=str(a_file))))
    assert (code, out) == (2, f"serve: data folder {a_file}: cannot be used: Not a directory\n")

    under_a_file = a_file / "data"
    code, out, err = cli(capsys, "serve", "--config", str(serve_config(tmp_path, data_dir=str(under_a_file))))
    assert (code, out) == (2, f"serve: data folder {under_a_file}: cannot be used: Not a directory\n")


def test_serve_refuses_a_ready_file_it_cannot_write_and_stops(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a_file = tmp_path / "not-a-folder"
    a_file.write_text("")
    ready = a_file / "ready.json"
    code, out, err = cli(capsys, "serve", "--config", str(serve_config(tmp_path)), "--ready-file", str(ready))
    assert code == 2 and out.splitlines()[-1].startswith(f"serve: cannot write the ready file {ready}: "), out
    code, out, _ = cli(capsys, "serve", "--config", str(serve_config(tmp_path)), "--ready-file", str(ready))
    assert "already running" not in out, "the refused service stopped and let its store go"


def test_the_embedded_default_refuses_a_busy_or_impossible_api_port(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], busy_port: int
) -> None:
    code, out, _ = cli(capsys, "--data", str(tmp_path / "data"), "--api-port", str(busy_port))
    assert code == 1 and out.endswith(f"run.py: cannot listen on 127.0.0.1:{busy_port}: Address already in use\n"), out

    with pytest.raises(SystemExit) as exited:
        cli(capsys, "--data", str(tmp_path / "data"), "--api-port", "70000")
    assert exited.value.code == 2
    assert "argument --api-port: '70000' is not a port: 0 (a free one) to 65535" in capsys.readouterr().err


def test_connect_local_refuses_a_busy_port_or_an_impossible_one(
    capsys: pytest.CaptureFixture[str], busy_port: int
) -> None:
    code, out, _ = cli(capsys, "connect-local", "--port", str(busy_port))
    assert (code, out) == (1, f"connect-local: cannot listen on 127.0.0.1:{busy_port}: Address already in use\n")

    with pytest.raises(SystemExit) as exited:
        cli(capsys, "connect-local", "--port", "70000")
    assert exited.value.code == 2
    assert "argument --port: '70000' is not a port" in capsys.readouterr().err


def test_connect_local_refuses_a_ready_file_that_is_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "connect-local", "--ready-file", str(tmp_path))
    assert code == 2 and out.splitlines()[-1].startswith(f"connect-local: cannot write the ready file {tmp_path}: "), out
    assert list(tmp_path.iterdir()) == [], "no temporary file is left behind"
