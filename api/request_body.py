"""Reading a request body no bigger than a limit, refused (413) before it is read whole."""

from __future__ import annotations

import logging

from starlette.requests import ClientDisconnect, Request

from api.errors import ApiError

log = logging.getLogger(__name__)

DEFAULT_MAX_BODY_BYTES = 256 * 1024


async def read_body(request: Request, limit: int) -> bytes:
    """The body, or ApiError 413 as soon as its Content-Length, or the bytes received so far, pass `limit`.
    Kept in `request.state.body`, for a call forwarded to the node that owns its conversation
    (api/forwarding.py): the stream cannot be read twice."""
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdecimal() and int(declared) > limit:
        raise _too_large(limit)
    received = bytearray()
    try:
        async for chunk in request.stream():
            received += chunk
            if len(received) > limit:
                raise _too_large(limit)
    except ClientDisconnect:
        # A bot that gave up mid-body (its own timeout): nothing was taken, and nobody is left to answer.
        # Not the service's fault, so not the ERROR and traceback an exception out of a handler logs.
        log.debug("%s %s: the client closed the connection before its body came whole", request.method, request.url.path)
        raise ApiError(400, "body_incomplete", "the connection closed before the whole body came") from None
    request.state.body = bytes(received)
    return request.state.body


def _too_large(limit: int) -> ApiError:
    return ApiError(413, "body_too_large", f"the body is larger than this API takes ({limit:,} bytes)")
