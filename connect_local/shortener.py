"""A short-link API in the Squeeze shape a worker's `ShortLinkConfig` names (README, "Short links"), so
that short links can be tried and tested against the local sandbox as translation and email can:

    POST /squeeze/standard   x-api-key: <any non-empty key>   {"url": "https://shop.example/orders/42"}
    200 {"shortUrl": "<this server>/s/Xc3f9a0B1q"}
    GET /s/Xc3f9a0B1q        302 to https://shop.example/orders/42

A link's code is the first ten characters of the URL-safe base64 of its SHA-256, so the same link
always has the same short form (a test can say what it must be: `short_code`), and a short link
works for as long as this server runs. No key: 403; a body without a usable `url`: 400.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

PATH = "/squeeze/standard"
CODE_LENGTH = 10
MAX_URL_CHARACTERS = 8192


def short_code(url: str) -> str:
    """The code of `url`'s short link here."""
    return base64.urlsafe_b64encode(hashlib.sha256(url.encode()).digest()).decode()[:CODE_LENGTH]


def short_url(base: str, url: str) -> str:
    """`url`'s short link on the server at `base` (its endpoint URL)."""
    return f"{base.rstrip('/')}/s/{short_code(url)}"


class ShortenerApi:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._links: dict[str, str] = {}

    def routes(self) -> list[Route]:
        return [Route(PATH, self._shorten, methods=["POST"]), Route("/s/{code}", self._follow, methods=["GET"])]

    async def _shorten(self, request: Request) -> Response:
        if not request.headers.get("x-api-key", "").strip():
            return JSONResponse({"message": "no x-api-key: the API's key is needed"}, status_code=403)
        try:
            url = json.loads(await request.body()).get("url")
        except (ValueError, AttributeError):
            url = None
        if not isinstance(url, str) or not url.startswith(("https://", "http://")) or len(url) > MAX_URL_CHARACTERS:
            return JSONResponse({"message": "the body must be {\"url\": an http(s) URL}"}, status_code=400)
        with self._lock:
            self._links[short_code(url)] = url
        return JSONResponse({"shortUrl": short_url(str(request.base_url), url)})

    async def _follow(self, request: Request) -> Response:
        with self._lock:
            url = self._links.get(request.path_params["code"])
        if url is None:
            return JSONResponse({"message": "no such short link here"}, status_code=404)
        return RedirectResponse(url, status_code=302)
