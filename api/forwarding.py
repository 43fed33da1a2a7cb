"""A call for a conversation another node serves, answered by that node (cluster/forward.py): the
bot's method, path, query, headers and body sent there, and the answer passed back unchanged.

When the owner cannot be reached, or the call was forwarded here already (the lease moved between
the two nodes' looks), the answer is 503 `conversation_moving` with Retry-After: the owner's lease
runs out by then, and the node asked next takes the conversation over.
"""

from __future__ import annotations

import http.client

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from api.errors import error_response
from cluster import OwnedElsewhere
from cluster.forward import FORWARDED_BY, forward


async def forwarded(request: Request, elsewhere: OwnedElsewhere, node_id: str) -> Response:
    """The owner's answer to `request`, or 503 with Retry-After when it cannot give one."""
    if elsewhere.url is None or FORWARDED_BY in request.headers:
        return _moving(elsewhere)
    body = getattr(request.state, "body", None)
    if body is None:
        body = await request.body()
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    try:
        answer = await run_in_threadpool(
            forward, elsewhere.url, request.method, target, request.headers.items(), body, node_id
        )
    except (OSError, http.client.HTTPException):
        return _moving(elsewhere)
    return Response(answer.body, status_code=answer.status, headers=answer.headers)


def _moving(elsewhere: OwnedElsewhere) -> Response:
    return error_response(
        503,
        "conversation_moving",
        f"conversation {elsewhere.conversation_id!r} is moving between the service's nodes: send again after "
        f"{elsewhere.retry_after} s",
        {"Retry-After": str(elsewhere.retry_after)},
    )
