"""deploy/connect-worker.service: what it starts is a command the release file takes, where it may write
is where the service writes, and systemd itself finds nothing wrong with it."""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

import run
from tests.release.conftest import Release
from tests.support.processes import REPO

UNIT = REPO / "deploy" / "connect-worker.service"
DATA_DIR = "/var/lib/connect-worker"


def service_section() -> dict[str, list[str]]:
    """The [Service] section, each key with every value it is given (systemd allows repeats)."""
    values: dict[str, list[str]] = {}
    section = None
    for line in UNIT.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            section = line
            continue
        key, _, value = line.partition("=")
        if section == "[Service]":
            values.setdefault(key, []).append(value)
    return values


def test_it_starts_serve_with_its_configuration_as_the_release_file_parses_it() -> None:
    service = service_section()
    [start] = service["ExecStart"]
    binary, *arguments = shlex.split(start)

    assert binary == "/usr/local/bin/connect-worker"
    parsed = run.build_parser().parse_args(arguments)
    assert (parsed.command, str(parsed.config)) == ("serve", "/etc/connect-worker/serve.json")
    assert service["User"] == ["connect-worker"]
    assert service["Restart"] == ["on-failure"]
    assert service["RestartPreventExitStatus"] == ["2"], "serve's refusals (exit code 2) are not retried"


def test_it_may_write_only_its_data_folder_and_the_cache_the_file_unpacks_into() -> None:
    service = service_section()

    assert service["ProtectSystem"] == ["strict"]
    assert (service["StateDirectory"], service["StateDirectoryMode"]) == (["connect-worker"], ["0700"])
    assert service["ReadWritePaths"] == [DATA_DIR]
    assert f"SHIV_ROOT=/var/cache/{service['CacheDirectory'][0]}" in service["Environment"]
    assert (service["PrivateTmp"], service["NoNewPrivileges"]) == (["yes"], ["yes"])


def test_it_stops_the_service_with_the_signal_it_stops_cleanly_on() -> None:
    service = service_section()

    assert (service["KillSignal"], service["KillMode"]) == (["SIGTERM"], ["mixed"])
    assert int(service["TimeoutStopSec"][0]) >= 30, "longer than a webhook in flight (10 s) and the threads' joins"


def test_it_leaves_room_for_20000_conversations_each_with_a_socket_and_a_thread() -> None:
    service = service_section()

    assert int(service["LimitNOFILE"][0]) >= 2 * 20_000, "systemd's default soft limit is 1,024"
    assert int(service["TasksMax"][0]) >= 2 * 20_000, "systemd's default is 15 % of pid_max: 4,915 of 32,768"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_finds_nothing_wrong_with_it(release: Release, tmp_path: Path) -> None:
    unit = tmp_path / "connect-worker.service"  # its ExecStart pointed at the built file
    unit.write_text(UNIT.read_text().replace("/usr/local/bin/connect-worker", str(release.file)))

    verified = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60)

    assert (verified.returncode, verified.stderr) == (0, ""), verified.stderr
