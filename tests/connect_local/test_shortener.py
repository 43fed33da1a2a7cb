"""The local short-link API in the Squeeze shape: a link's short form, the way back, and refusals."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from http.client import HTTPResponse

import pytest

from connect_local import Config, LocalConnect
from connect_local.shortener import short_url
from tests.connect_local.configs import config_with

LINK = "https://shop.example/orders/42?utm=chat"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def call(request: urllib.request.Request) -> tuple[int, bytes, HTTPResponse | urllib.error.HTTPError]:
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=10) as answer:
            return answer.status, answer.read(), answer
    except urllib.error.HTTPError as error:
        return error.code, error.read(), error


def shorten(server: LocalConnect, body: bytes, key: str | None = "any-key") -> tuple[int, dict]:
    request = urllib.request.Request(f"{server.endpoint_url}/squeeze/standard", data=body, method="POST")
    request.add_header("Content-Type", "application/json")
    if key is not None:
        request.add_header("x-api-key", key)
    status, answer, _ = call(request)
    return status, json.loads(answer)


def test_a_link_gets_the_same_short_form_each_time_and_it_leads_back(
    start_server: Callable[[Config], LocalConnect]
) -> None:
    server = start_server(config_with())
    status, answer = shorten(server, json.dumps({"url": LINK}).encode())
    assert (status, answer) == (200, {"shortUrl": short_url(server.endpoint_url, LINK)})
    assert shorten(server, json.dumps({"url": LINK}).encode())[1] == answer

    status, _, followed = call(urllib.request.Request(answer["shortUrl"]))
    assert (status, followed.headers["Location"]) == (302, LINK)


@pytest.mark.parametrize(
    ("body", "key", "status"),
    [(b'{"url": "https://x.example"}', None, 403), (b'{"url": "https://x.example"}', " ", 403),
     (b"not json", "k", 400), (b'{"url": "ftp://x.example"}', "k", 400), (b"[1]", "k", 400)],
    ids=["no key", "blank key", "not json", "not http", "not an object"],
)
def test_no_key_or_no_usable_url_is_refused(
    start_server: Callable[[Config], LocalConnect], body: bytes, key: str | None, status: int
) -> None:
    server = start_server(config_with())
    answer = shorten(server, body, key)
    assert answer[0] == status and "message" in answer[1]
