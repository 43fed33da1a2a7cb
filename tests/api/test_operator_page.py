"""The operator page's files: served without a token (they hold no data), each with a policy that lets
the page load only its own files and call only this origin; any other name is the API's JSON 404."""

from __future__ import annotations

import re
import urllib.error
import urllib.request

from api.operator_page import ASSETS
from tests.api.conftest import Served


def fetch(url: str) -> tuple[int, str, str, str]:
    """Status, Content-Type, Content-Security-Policy and body, without any token."""
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            headers, status, body = answer.headers, answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        headers, status, body = error.headers, error.code, error.read().decode()
    return status, headers.get("Content-Type", ""), headers.get("Content-Security-Policy", ""), body


def test_the_page_and_its_files_are_served_without_a_token_under_a_strict_policy(served: Served) -> None:
    status, content_type, policy, page = fetch(served.url + "/operator")

    assert (status, content_type) == (200, "text/html; charset=utf-8")
    assert "default-src 'none'" in policy and "connect-src 'self'" in policy and "script-src 'self'" in policy
    linked = set(re.findall(r'(?:src|href)="(/[^"]*)"', page))
    assert linked == {f"/operator/{name}" for name in ASSETS}
    for path in linked:
        status, content_type, policy, _ = fetch(served.url + path)
        assert status == 200 and content_type.startswith(("text/javascript", "text/css")), path
        assert "default-src 'none'" in policy


def test_a_name_the_page_does_not_have_is_a_json_404(served: Served) -> None:
    for name in ("operator.html", "operator.html.bak", "..%2Fapp.py", "secret"):
        status, content_type, _, body = fetch(f"{served.url}/operator/{name}")
        assert (status, content_type) == (404, "application/json"), name
        assert '"Code":"not_found"' in body
