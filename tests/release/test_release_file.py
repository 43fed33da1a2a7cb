"""The one-file release behaves as `python run.py`: every command, and the embedded default handing a
conversation to the simulated agent and stopping cleanly on SIGTERM, with nothing of the checkout."""

from __future__ import annotations

import json
import re
import sqlite3
import stat
import subprocess
import sys
import urllib.request
import zipfile
from pathlib import Path

from commands.database import open_store_for_writing
from connect_local import LocalConnect
from service.demo_worker import ensure_demo_worker
from store.clients import ClientRegistry
from store.schema import LATEST_VERSION
from store.workers import WorkerRegistry
from tests.release.conftest import Release
from tests.service.harness import Api, wait_for
from tests.support.processes import REPO, stop_gracefully, wait_for_ready_file

# A subcommand's line in --help: four spaces, its name, then its help (or a line break, for a long name).
COMMAND_LINE = re.compile(r"^    (?P<name>[a-z][a-z-]*)(?:\s{2,}|$)", re.MULTILINE)
NOT_PACKAGE_DATA = {"README.md"}
NOT_PACKAGED = {"tests"}


def commands_in(help_text: str) -> list[str]:
    return COMMAND_LINE.findall(help_text)


def test_its_help_lists_every_command_of_run_py(release: Release) -> None:
    from_checkout = subprocess.run(
        [sys.executable, "run.py", "--help"], cwd=REPO, capture_output=True, text=True, timeout=60,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "100"},
    )
    from_file = release.run("--help")

    assert (from_file.returncode, from_file.stderr) == (0, "")
    assert {"serve", "store", "status", "worker", "connect-local"} <= set(commands_in(from_checkout.stdout))
    assert commands_in(from_file.stdout) == commands_in(from_checkout.stdout)


def test_it_carries_every_module_and_file_of_the_checkouts_packages(release: Release) -> None:
    with zipfile.ZipFile(release.file) as archive:
        carried = {name.removeprefix("site-packages/") for name in archive.namelist()}
    packages = [init.parent for init in REPO.glob("*/__init__.py") if init.parent.name not in NOT_PACKAGED]
    files = {"run.py"} | {
        str(path.relative_to(REPO))
        for package in packages
        for path in package.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.name not in NOT_PACKAGE_DATA
    }

    assert {"connect_local/static/agent.html", "api/openapi.json", "store/backup.py"} <= files
    assert sorted(files - carried) == [], "packages or files the release lacks: see pyproject's [tool.setuptools]"


def told(api: Api, conversation_id: str, kind: str) -> list[dict]:
    status, page = api.call("GET", f"/v1/conversations/{conversation_id}/events?after=0")
    assert status == 200, page
    return [event for event in page["Events"] if event["Type"] == kind]


def test_the_embedded_default_hands_a_conversation_to_the_simulated_agent_and_stops_on_sigterm(
    release: Release, tmp_path: Path
) -> None:
    data, ready = tmp_path / "data", tmp_path / "ready.json"
    process = release.start("--data", str(data), "--api-port", "0", "--ready-file", str(ready))
    try:
        info = wait_for_ready_file(ready, process, timeout=60)
        token = Path(info["api_token_file"]).read_text().strip()
        api = Api(info["api_url"], token)
        assert api.transfer("release-1", info["demo_worker_id"], Context={"name": "Maya"})[0] == 201
        joined = wait_for(lambda: told(api, "release-1", "AgentJoined"), "the simulated agent joining")
        assert joined[0]["AgentName"] == "Ana"
        assert api.say("release-1", "m-1", "Hello from the release")[0] == 202
        wait_for(
            lambda: any(m["Text"] == "You said: Hello from the release" for m in told(api, "release-1", "AgentMessage")),
            "Ana's answer",
        )
        with urllib.request.urlopen(info["agent_page_url"], timeout=30) as page:  # the static files came along
            assert page.status == 200 and b"<html" in page.read().lower()
        with urllib.request.urlopen(info["openapi_url"], timeout=30) as spec:
            assert spec.status == 200

        status = wait_for(lambda: (done := release.run("status", "--db", str(data / "events.db"))).returncode == 0 and done,
                          "status saying the service runs")
        assert "service running" in status.stdout
        backup = tmp_path / "backup.db"
        backed_up = release.run("store", "backup", str(backup), "--db", str(data / "events.db"))
        assert backed_up.returncode == 0, backed_up.stderr
        assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    finally:
        output = stop_gracefully(process)  # SIGTERM, as systemd stops it; exit code 0

    assert "Stop with Ctrl-C." in output and token not in output
    after = release.run("status", "--db", str(data / "events.db"))
    assert after.returncode == 3, after.stdout + after.stderr
    assert ", stopped)" in after.stdout, after.stdout


def serve_config(path: Path, data: Path, endpoint_url: str) -> Path:
    path.write_text(json.dumps({
        "data_dir": str(data), "api_host": "127.0.0.1", "api_port": 0,
        "regions": {"us-east-1": {"endpoint_url": endpoint_url, "static_credentials": True}},
    }))
    return path


def test_serve_as_the_unit_starts_it_relays_and_stops_cleanly_on_sigterm(
    release: Release, server: LocalConnect, tmp_path: Path
) -> None:
    data, ready = tmp_path / "data", tmp_path / "ready.json"
    with open_store_for_writing(data / "events.db") as store:
        worker_id = ensure_demo_worker(WorkerRegistry(store), server.ready_info())
    with ClientRegistry(data / "events.db") as clients:
        token = clients.create("release-bot").token
    config = serve_config(tmp_path / "serve.json", data, server.endpoint_url)
    process = release.start("serve", "--config", str(config), "--ready-file", str(ready))
    try:
        api = Api(wait_for_ready_file(ready, process, timeout=60)["api_url"], token)
        assert api.transfer("serve-1", worker_id)[0] == 201
        wait_for(lambda: told(api, "serve-1", "AgentJoined"), "Ana joining")
        assert api.say("serve-1", "m-1", "Still there?")[0] == 202
        wait_for(lambda: told(api, "serve-1", "AgentMessage"), "Ana's answer")
    finally:
        output = stop_gracefully(process)  # exit code 0 after SIGTERM

    assert token not in output
    after = release.run("status", "--db", str(data / "events.db"))
    assert (after.returncode, ", stopped)" in after.stdout) == (3, True), after.stdout + after.stderr


def store_files(data: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in data.iterdir() if path.name.startswith("events.db")
            and not path.name.endswith(".service-lock")}


def test_serve_refuses_the_store_of_a_newer_version_with_exit_code_2_and_leaves_it_as_it_was(
    release: Release, server: LocalConnect, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    with open_store_for_writing(data / "events.db") as store:
        ensure_demo_worker(WorkerRegistry(store), server.ready_info())
    conn = sqlite3.connect(data / "events.db")  # as a newer version's migration leaves it
    conn.execute(f"PRAGMA user_version={LATEST_VERSION + 1}")
    conn.close()
    before = store_files(data)

    refused = release.run("serve", "--config", str(serve_config(tmp_path / "serve.json", data, server.endpoint_url)))

    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert f"has schema version {LATEST_VERSION + 1}" in refused.stdout
    assert "upgrade the program instead" in refused.stdout
    assert store_files(data) == before
