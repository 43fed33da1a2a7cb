"""Reading a request body no bigger than a limit, refused (413) before it is read whole."""

from __future__ import annotations

from starlette.requests import Request

from api.errors import ApiError

DEFAULT_MAX_BODY_BYTES = 256 * 1024


async def read_body(request: Request, limit: int) -> bytes:
    """The body, or ApiError 413 as soon as its Content-Length, or the bytes received so far, pass `limit`.
    Kept in `request.state.body`, for a call forwarded to the node that owns its conversation
    (api/forwarding.py): the stream cannot be read twice."""
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdecimal() and int(declared) > limit:
        raise _too_large(limit)
    received = bytearray()
    async for chunk in request.stream():
        received += chunk
        if len(received) > limit:
            raise _too_large(limit)
    request.state.body = bytes(received)
    return request.state.body


def _too_large(limit: int) -> ApiError:
    return ApiError(413, "body_too_large", f"the body is larger than this API takes ({limit:,} bytes)")
