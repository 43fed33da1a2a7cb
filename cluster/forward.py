"""A bot's call for a conversation another node owns, sent to that node as it came, and its answer
passed back unchanged: the bot never needs to know which node it reached (docs/cluster.md).

Forwarded once only: the call carries `FORWARDED_BY`, and a node that gets a forwarded call for a
conversation it does not own either (the lease moved meanwhile) answers 503 with Retry-After rather
than forwarding it again, so two nodes with stale views never bounce a call between them.
"""

from __future__ import annotations

from collections.abc import Iterable

from net.http import HttpAnswer, request

FORWARDED_BY = "x-connect-worker-forwarded-by"
# A conversation's actor answers within the API's ask timeout (60 s); the owner's answer may take that long.
TIMEOUT_SECONDS = 70.0
# Headers of one connection, not of the call (RFC 9110, 7.6.1), and those the HTTP client sets itself.
_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "host", "content-length"}
)


def forward(
    owner_url: str, method: str, target: str, headers: Iterable[tuple[str, str]], body: bytes, node_id: str
) -> HttpAnswer:
    """`method target` (the path and query as the bot sent them) to the node at `owner_url`, with the
    bot's headers and body; the owner's answer, whatever its status, with the headers to pass back.
    Raises OSError (or http.client.HTTPException) when the owner cannot be reached."""
    sent = {name: value for name, value in headers if name.lower() not in _HOP_BY_HOP}
    sent[FORWARDED_BY] = node_id
    answer = request(method, owner_url.rstrip("/") + target, body or None, sent, TIMEOUT_SECONDS)
    kept = {name: value for name, value in answer.headers.items() if name not in _HOP_BY_HOP}
    return HttpAnswer(answer.status, answer.body, kept)
