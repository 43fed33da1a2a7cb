"""One outbound HTTP client on kept-alive connections: no proxy from the environment, no redirect followed, a timeout.

`post` for the webhooks and short links; `request` (any method, the answer's headers kept) for a
cluster node forwarding a bot's call to the node that owns its conversation (cluster/forward.py) and
for the Amazon Connect participant calls (connect_client/participant_http.py), which also say how long
to wait for a connection apart from an answer (`connect_timeout`) and how many connections to keep
for their host (`connections`: many conversations call one region's endpoint at once).

Every status is an answer (`HttpAnswer`), 4xx and 5xx included: what it means is the caller's
business. `answer_limit` keeps only that many bytes of the answer's body: a webhook's answer, which
the deliverer never reads, could otherwise be as large as its bot makes it, held in memory whole; a
longer answer's connection is closed, not kept, so nothing more of it is read.

What prevents an answer raises: `ValueError` (or `http.client.InvalidURL`) for a request
that cannot be made of the URL and headers, `UnicodeError` for a host name IDNA cannot encode, and
`OSError` or `http.client.HTTPException` for the network (refused, reset, timed out), the error
the socket or `http.client` raised rather than urllib3's wrapping of it (a connection that timed out
is `ConnectTimedOut`, a `TimeoutError`, so that a caller can tell it from an answer that did not come).

Connections are kept per host (urllib3's `PoolManager`), so a webhook or a short-link API pays the
TCP (and TLS) handshake once, not on every POST. A kept connection the server has closed is seen
before it is used again and replaced; one that breaks during a POST is an error like any other,
and the POST is not sent again here (a webhook's is retried by the deliverer, under the same id).

A URL with user info (`https://bot:s3cret@hooks.example/chat`) is sent with it as HTTP Basic
authentication, as curl and every browser send it, unless the caller gives its own `Authorization`:
a bot behind Basic authentication gave its webhook so, and without the header each POST would be
refused with 401 and, a 4xx, given up for good. (The URL's password is redacted wherever the URL is
shown: events/redaction.py.)
"""

from __future__ import annotations

import base64
import functools
import http.client
import socket
import urllib.parse
from dataclasses import dataclass, field

import urllib3
from urllib3.connection import HTTPConnection
from urllib3.exceptions import ConnectTimeoutError, HTTPError, LocationValueError, NewConnectionError, ProtocolError

# Idle connections kept per host. The deliverer has at most 8 POSTs in flight for one bot
# (delivery.webhook.PER_CLIENT) and one message asks for at most 8 short links at once
# (actors.short_links.MAX_AT_ONCE), so each finds its connections kept; POSTs beyond that (bots that
# share a webhook host) still go out, on connections closed after their answer (urllib3 logs a
# WARNING "Connection pool is full" for each), never waiting for a kept one.
CONNECTIONS_PER_HOST = 8
# Hosts whose connections are kept, the least recently used dropped: the bots' webhooks and the
# short-link APIs, a handful in a service. Bounds the idle sockets at 32 x 8.
HOSTS = 32

# URLs whose parsing is kept (`_target`): the participant operations of a few regions, the webhooks and
# short-link APIs of the bots.
_PARSED_URLS = 256

# TCP keep-alive on every connection (as botocore's `tcp_keepalive`): an idle kept connection that a
# NAT or load balancer forgot is found dead by the kernel, not by the next call's read timeout.
_SOCKET_OPTIONS = [*HTTPConnection.default_socket_options, (socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)]
_POOLS = urllib3.PoolManager(
    num_pools=HOSTS, maxsize=CONNECTIONS_PER_HOST, block=False, retries=False, socket_options=_SOCKET_OPTIONS
)


class ConnectTimedOut(TimeoutError):
    """No connection was made within the connect timeout: nothing was sent (a `TimeoutError` raised
    otherwise came while waiting for the answer, after the request went out)."""


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict, compare=False)


def post(
    url: str, body: bytes, headers: dict[str, str], timeout: float, *,
    connect_timeout: float | None = None, connections: int = CONNECTIONS_PER_HOST, answer_limit: int | None = None,
) -> HttpAnswer:
    return request(
        "POST", url, body, headers, timeout,
        connect_timeout=connect_timeout, connections=connections, answer_limit=answer_limit,
    )


def request(
    method: str, url: str, body: bytes | None, headers: dict[str, str], timeout: float, *,
    connect_timeout: float | None = None, connections: int = CONNECTIONS_PER_HOST, answer_limit: int | None = None,
) -> HttpAnswer:
    """`method` to `url`; the answer whatever its status, with its headers (lower-case names), and its
    body whole or, with `answer_limit`, its first `answer_limit` bytes.

    `timeout` bounds the wait for the connection and for each read of the answer; `connect_timeout`,
    when given, the wait for the connection instead. `connections` is how many idle connections to
    `url`'s host are kept: a host asked for with another number than the default is kept in a pool of
    its own."""
    limits = urllib3.Timeout(connect=timeout if connect_timeout is None else connect_timeout, read=timeout)
    try:
        scheme, host, port, request_uri, authorization = _target(url)
        if authorization is not None and not any(name.lower() == "authorization" for name in headers):
            headers = {**headers, "Authorization": authorization}
        pool = _POOLS.connection_from_host(host, port, scheme, pool_kwargs={"maxsize": connections})
        # A redirect is an answer like any other 3xx: following it would turn a POST into a GET.
        response = pool.urlopen(
            method, request_uri, body=body, headers=headers, timeout=limits,
            redirect=False, retries=False, assert_same_host=False, preload_content=answer_limit is None,
        )
        answer = response.data if answer_limit is None else _first_bytes(response, answer_limit)
    except LocationValueError:
        raise  # a ValueError: no request can be made of this URL
    except HTTPError as error:
        raise _network_error(error) from None
    return HttpAnswer(response.status, answer, {name.lower(): value for name, value in response.headers.items()})


def _first_bytes(response: urllib3.BaseHTTPResponse, limit: int) -> bytes:
    """The answer's body up to `limit` bytes; the connection kept if that was all of it, else closed
    (urllib3 would also refuse to reuse a connection with bytes waiting to be read, but not one whose
    rest has not come yet)."""
    try:
        body = response.read(amt=limit + 1)
        if len(body) > limit:
            response.close()
            body = body[:limit]
    finally:
        response.release_conn()
    return body


@functools.lru_cache(maxsize=_PARSED_URLS)
def _target(url: str) -> tuple[str, str | None, int | None, str, str | None]:
    """`url`'s scheme, host, port, request URI and the Basic `Authorization` its user info makes (None
    without user info), parsed once: a service calls the same few URLs
    (its region's five participant operations, its bots' webhooks) over and over, and urllib3's
    parsing was about a third of the CPU of a participant call of a restart's recovery. A URL that
    cannot be parsed raises, and is not kept."""
    _check_host_encodes(url)
    parsed = urllib3.util.parse_url(url)
    return parsed.scheme or "http", parsed.host, parsed.port, parsed.request_uri, _basic_authorization(parsed.auth)


def _basic_authorization(user_info: str | None) -> str | None:
    """The `Authorization` header of a URL's `user:password` (each part percent-decoded, as a URL
    carries a `@` or `:` in either), or None without user info."""
    if user_info is None:
        return None
    user, _, password = user_info.partition(":")
    # Bytes as the URL carries them (UTF-8 once percent-decoded), as curl sends them: not Latin-1.
    credentials = urllib.parse.unquote_to_bytes(user) + b":" + urllib.parse.unquote_to_bytes(password)
    return "Basic " + base64.b64encode(credentials).decode("ascii")


def _check_host_encodes(url: str) -> None:
    """Raise `UnicodeError` for a host the resolver could not be asked about (urllib3 says ValueError)."""
    host = urllib.parse.urlsplit(url).hostname
    if host:
        host.encode("idna")


def _network_error(error: HTTPError) -> Exception:
    """The socket's or http.client's own error that urllib3 wrapped (refused, reset, timed out)."""
    wrapped = error.args[-1] if isinstance(error, ProtocolError) and error.args else error.__cause__
    if isinstance(error, ConnectTimeoutError) and not isinstance(error, NewConnectionError):
        return ConnectTimedOut(*getattr(wrapped, "args", ()))
    if isinstance(wrapped, (OSError, http.client.HTTPException)):
        return wrapped
    return ConnectionError(f"{type(error).__name__}: {error}")
