"""The admin API (JSON under `/admin`): inspection and faults on demand.

    GET  /admin/contacts/{ContactId}                    the full record, items with ClientToken and ReceivedAt
    POST /admin/contacts/{ContactId}/expire-connections -> {"Expired": n}
    POST /admin/sockets/drop        {"ContactId": optional} -> {"Dropped": n}
    GET  /admin/sockets?ContactId=  -> {"Open": n}
    POST /admin/faults/outage       {"Region": "us-east-1", "Down": true}
    POST /admin/faults/throttle     {"Count": 3, "Operation": optional, "Region": optional}
    POST /admin/faults/latency      {"Seconds": 0.2, "Region": optional}
    POST /admin/faults/errors       {"Share": 0.5, "Seed": 7, "Region": optional}
    POST /admin/faults/refuse       {"Count": 1, "Operation": "SendMessage", "Code": "ValidationException",
                                     "Message": "...", "Status": 400 (optional)}
    POST /admin/faults/clear

Errors are `{"message": "..."}` with a 4xx status.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connect_local.controls import Controls
from connect_local.errors import NotFound


class AdminApi:
    def __init__(self, controls: Controls) -> None:
        self._controls = controls

    def routes(self) -> list[Route]:
        c = self._controls
        return [
            Route("/admin/contacts/{contact_id}", self._endpoint(lambda b, p: c.contact_record(p["contact_id"])), methods=["GET"]),
            Route(
                "/admin/contacts/{contact_id}/expire-connections",
                self._endpoint(lambda b, p: {"Expired": c.expire_connections(c.model.contact(p["contact_id"]).id)}),
                methods=["POST"],
            ),
            Route("/admin/sockets/drop", self._endpoint(lambda b, p: {"Dropped": c.drop_sockets(_opt(b, "ContactId", str))}), methods=["POST"]),
            Route("/admin/sockets", self._sockets, methods=["GET"]),
            Route(
                "/admin/faults/outage",
                self._endpoint(lambda b, p: _done(c.set_outage(_req(b, "Region", str), _opt(b, "Down", bool, True)))),
                methods=["POST"],
            ),
            Route(
                "/admin/faults/throttle",
                self._endpoint(lambda b, p: _done(c.throttle_next(_req(b, "Count", int), _opt(b, "Operation", str), _opt(b, "Region", str)))),
                methods=["POST"],
            ),
            Route(
                "/admin/faults/latency",
                self._endpoint(lambda b, p: _done(c.set_latency(_number(b, "Seconds"), _opt(b, "Region", str)))),
                methods=["POST"],
            ),
            Route(
                "/admin/faults/errors",
                self._endpoint(lambda b, p: _done(c.fail_share(_number(b, "Share"), _opt(b, "Seed", int, 0), _opt(b, "Region", str)))),
                methods=["POST"],
            ),
            Route(
                "/admin/faults/refuse",
                self._endpoint(
                    lambda b, p: _done(
                        c.refuse_next(
                            _req(b, "Count", int), _req(b, "Operation", str), _req(b, "Code", str),
                            _req(b, "Message", str), _opt(b, "Status", int, 400),
                        )
                    )
                ),
                methods=["POST"],
            ),
            Route("/admin/faults/clear", self._endpoint(lambda b, p: _done(c.clear_faults())), methods=["POST"]),
        ]

    async def _sockets(self, request: Request) -> Response:
        return JSONResponse({"Open": self._controls.open_sockets(request.query_params.get("ContactId"))})

    @staticmethod
    def _endpoint(action: Callable[[dict[str, Any], dict[str, str]], dict[str, Any]]) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            try:
                raw = await request.body()
                body = json.loads(raw) if raw.strip() else {}
                if not isinstance(body, dict):
                    raise ValueError("the request body must be a JSON object")
                return JSONResponse(action(body, dict(request.path_params)))
            except NotFound as error:
                return JSONResponse({"message": str(error)}, status_code=404)
            except ValueError as error:
                return JSONResponse({"message": str(error)}, status_code=400)

        return endpoint


def _done(_: None) -> dict[str, Any]:
    return {}


def _req(body: dict[str, Any], name: str, kind: type) -> Any:
    value = body.get(name)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise ValueError(f"{name} must be a {kind.__name__}")
    return value


def _opt(body: dict[str, Any], name: str, kind: type, default: Any = None) -> Any:
    return default if body.get(name) is None else _req(body, name, kind)


def _number(body: dict[str, Any], name: str) -> float:
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a number")
    return float(value)
