"""api/openapi.json is what api/openapi_spec.py generates now, and it describes exactly the routes
the app serves (the delivery pull stream included), so neither can drift from the other unnoticed."""

from __future__ import annotations

import json
import re
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from api import create_app
from api.openapi_spec import OPENAPI_FILE, REGENERATE, render
from delivery import delivery_routes
from service import WorkerService
from store import EventStore
from store.clients import ClientRegistry
from tests.api.conftest import Served, regions_never_asked

OPERATIONS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Starlette]:
    """The app as commands/runtime.py builds it, on a WorkerService that is never started: no servers,
    no timer thread, no recovery; only the store's own writer thread, stopped with the store."""
    with EventStore.open(tmp_path / "events.db") as store, ClientRegistry(store.path) as clients:
        threads = set(threading.enumerate())
        built = create_app(WorkerService(store, regions_never_asked), clients, delivery_routes(store))
        assert set(threading.enumerate()) <= threads, "building the app started a thread"
        yield built


def _documented() -> dict[str, Any]:
    return json.loads(OPENAPI_FILE.read_text())


def _served(app: Starlette) -> set[tuple[str, str]]:
    served = set()
    for route in app.routes:
        assert isinstance(route, Route), f"{route!r} is not a plain Route: teach this test to list what it serves"
        methods = {method.lower() for method in route.methods or ()}
        if "get" in methods:
            methods.discard("head")  # Starlette answers HEAD for every GET route by itself
        served |= {(route.path, method) for method in methods}
    return served


def test_the_committed_openapi_file_is_what_the_generator_makes_now() -> None:
    assert OPENAPI_FILE.read_text() == render(), (
        "api/openapi.json differs from what api/openapi_spec.py (with api/bodies.py) generates: "
        f"regenerate it with `{REGENERATE}` from the repository root and commit it"
    )


def test_the_app_serves_the_file_that_is_checked(served: Served) -> None:
    with urllib.request.urlopen(served.url + "/openapi.json", timeout=10) as answer:
        assert answer.headers["Content-Type"] == "application/json"
        assert answer.read() == OPENAPI_FILE.read_bytes()


def test_every_route_served_is_documented_and_every_documented_one_is_served(app: Starlette) -> None:
    served = _served(app)
    assert ("/v1/conversations/{conversation_id}/events", "get") in served, "the pull stream is not mounted"
    documented = {
        (path, method) for path, item in _documented()["paths"].items() for method in item if method in OPERATIONS
    }
    undocumented = sorted(served - documented)
    not_served = sorted(documented - served)
    assert not undocumented and not not_served, (
        f"served but not in api/openapi_spec.py's paths: {undocumented}; "
        f"in its paths but not served: {not_served} "
        f"(describe the route in api/openapi_spec.py, then `{REGENERATE}`)"
    )


def test_every_path_parameter_is_described() -> None:
    for path, item in _documented()["paths"].items():
        in_path = set(re.findall(r"{(\w+)}", path))
        for method, operation in item.items():
            described = {p["name"] for p in operation.get("parameters", ()) if p["in"] == "path"}
            assert described == in_path, f"{method.upper()} {path}: path parameters described {described}"
