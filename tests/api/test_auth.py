"""Every route the app serves, but /openapi.json, the operator page's files and the health probes, refuses a
caller without a client's valid token with 401 `{"Code", "Message"}`. The table is the app's own routes, so a new route
without auth fails here."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request

from starlette.routing import Route

from store.clients import ClientRegistry
from tests.api.conftest import Served

# Files that hold no data: the page asks the API for everything, with the operator's token; and the
# probes of load balancers and systemd, which say up or ready and nothing else (tests/api/test_health.py).
PUBLIC = {"/openapi.json", "/operator", "/operator/{name}", "/healthz", "/readyz"}


def call(url: str, method: str, authorization: str | None) -> tuple[int, object, str]:
    request = urllib.request.Request(url, method=method, data=b"{}" if method in {"POST", "PUT"} else None)
    if authorization is not None:
        request.add_header("Authorization", authorization)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read() or b"null"), answer.headers.get("WWW-Authenticate", "")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null"), error.headers.get("WWW-Authenticate", "")


def guarded_operations(served: Served) -> list[tuple[str, str]]:
    """(method, path with its parameters filled) for every route the app serves but the public ones."""
    operations = []
    for route in served.app.routes:
        assert isinstance(route, Route), f"{route!r}: teach this test to list what it serves"
        if route.path in PUBLIC:
            continue
        path = re.sub(r"{\w+}", "c-1", route.path)
        operations += [(method, path) for method in sorted(route.methods or ()) if method != "HEAD"]
    return operations


def test_every_route_but_the_openapi_file_refuses_a_caller_without_a_valid_token(served: Served) -> None:
    served.conversation_of(served.alice, "c-1")  # so that a route could only answer 401 for want of a token
    revoked = served.clients.create("gone")
    served.clients.revoke(revoked.client.id)
    credentials = {
        "no header": None,
        "a wrong scheme": f"Basic {served.alice.token}",
        "a bare token": served.alice.token,
        "a wrong token": "Bearer " + "x" * 43,
        "a revoked token": f"Bearer {revoked.token}",
    }
    operations = guarded_operations(served)
    assert ("GET", "/v1/conversations/c-1/events") in operations, "the pull stream is not among the routes"
    assert len(operations) >= 8

    answers = {
        (method, path, what): call(served.url + path, method, authorization)
        for method, path in operations
        for what, authorization in credentials.items()
    }

    wrong = {
        key: answer
        for key, answer in answers.items()
        if answer[0] != 401 or answer[1].get("Code") != "unauthorized" or set(answer[1]) != {"Code", "Message"}
        or answer[2] != "Bearer"
    }
    assert not wrong, f"answered without a valid token: {wrong}"


def test_a_valid_token_passes_the_same_door(served: Served) -> None:
    served.conversation_of(served.alice, "c-1")
    assert call(served.url + "/v1/conversations/c-1", "GET", f"Bearer {served.alice.token}")[0] == 200
    assert call(served.url + "/v1/conversations/c-1", "GET", f"bearer {served.alice.token}")[0] == 200


def test_a_token_revoked_by_another_process_is_refused_from_the_next_request_on(served: Served) -> None:
    """`run.py client revoke` is a process of its own, on a connection of its own: the served API keeps
    no token in memory that would outlive it."""
    served.conversation_of(served.alice, "c-1")
    url, authorization = served.url + "/v1/conversations/c-1", f"Bearer {served.alice.token}"
    assert [call(url, "GET", authorization)[0] for _ in range(3)] == [200, 200, 200]

    with ClientRegistry(served.store.path) as elsewhere:
        elsewhere.revoke(served.alice.client.id)

    status, body, _ = call(url, "GET", authorization)
    assert status == 401, "the revoked token was still taken"
    assert body["Code"] == "unauthorized"


def test_the_openapi_file_is_public(served: Served) -> None:
    status, document, _ = call(served.url + "/openapi.json", "GET", None)
    assert status == 200 and document["openapi"].startswith("3.1")
