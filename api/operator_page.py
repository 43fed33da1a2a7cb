"""The operator page: static HTML, script and style from `api/static/`, served without a token.

The page holds no data. Every call it makes goes to the API with the token the operator pastes (an
admin client's), so the page itself tells nobody anything; its Content-Security-Policy lets it load
only its own files and talk only to this origin.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from api.errors import error_response

STATIC_DIR = Path(__file__).with_name("static")
PAGE = "operator.html"
ASSETS = ("operator.js", "operator.css")
_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}


def operator_page_routes() -> list[Route]:
    return [
        Route("/operator", _page, methods=["GET"]),
        Route("/operator/{name}", _asset, methods=["GET"]),
    ]


async def _page(request: Request) -> Response:
    return FileResponse(STATIC_DIR / PAGE, media_type="text/html; charset=utf-8", headers=_HEADERS)


async def _asset(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in ASSETS:
        return error_response(404, "not_found", f"the operator page has no file {name!r}: it has {', '.join(ASSETS)}")
    return FileResponse(STATIC_DIR / name, headers=_HEADERS)
