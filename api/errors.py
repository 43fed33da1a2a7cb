"""The API's one error shape, `{"Code": ..., "Message": ...}`, and the exception that carries it."""

from __future__ import annotations

import msgspec
from starlette.responses import Response

from api.bodies import Error


class ApiError(Exception):
    """Raised anywhere under a handler; the app answers it as `{"Code", "Message"}` with `status`."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    return Response(
        msgspec.json.encode(Error(code=code, message=message)),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )
