"""A worker's short-link API URL may carry a credential; `worker get` and `events tail` never show it,
and a configuration shown so cannot be stored back with the credential lost."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import run
from store import EventStore
from store.workers import WorkerRegistry
from tests.workers.test_worker_config import valid_worker

API = "https://acme:pw-SECRET@sqz.example/standard?api_key=key-SECRET"


def created_worker(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    """A worker whose short-link API URL carries a password and a key: its store and id."""
    db = str(tmp_path / "events.db")
    config = valid_worker()
    config["Data"]["ShortLinkConfig"] = {
        "Config": {"Api": API, "ApiKey": "srn:vault::acme:secret:squeeze"}, "Type": "Squeeze",
    }
    worker = tmp_path / "worker.json"
    worker.write_text(json.dumps(config))
    assert run.main(["worker", "create", str(worker), "--db", db]) == 0
    return db, capsys.readouterr().out.strip()


def test_worker_get_and_events_tail_show_the_short_link_api_without_its_credentials(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, worker_id = created_worker(tmp_path, capsys)

    assert run.main(["worker", "get", worker_id, "--db", db]) == 0
    shown = capsys.readouterr().out
    assert run.main(["events", "tail", "--db", db]) == 0
    tailed = capsys.readouterr().out

    for output in (shown, tailed):
        assert "SECRET" not in output
        assert "https://acme:<redacted>@sqz.example/standard?api_key=<redacted>" in output
    with EventStore.open(db) as store:  # the service calls the URL as written
        assert WorkerRegistry(store).get(worker_id).data.short_link_config.config.api == API


def test_a_worker_shown_with_its_credentials_hidden_is_refused_back_naming_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, worker_id = created_worker(tmp_path, capsys)
    assert run.main(["worker", "get", worker_id, "--db", db]) == 0
    shown = tmp_path / "shown.json"
    shown.write_text(capsys.readouterr().out)

    assert run.main(["worker", "update", worker_id, str(shown), "--db", db]) == 2

    assert "$.Data.ShortLinkConfig.Config.Api: holds <redacted>" in capsys.readouterr().err
    with EventStore.open(db) as store:
        assert WorkerRegistry(store).get(worker_id).data.short_link_config.config.api == API
