"""The `connectparticipant` calls on the wire, without boto3: one POST of JSON per call through the
project's one HTTP client (net/http.py), authorised by the token in `X-Amz-Bearer` alone.

    >>> transport = ParticipantTransport(participant_endpoint("eu-west-2"), RegionHealth())
    >>> body = transport.call("SendMessage", connection_token, b'{"ContentType": ...}')

Amazon's API reference says of every participant call that it does "not use Signature Version 4
authentication": the participant token (CreateParticipantConnection) or the connection token (the
others) is the credential, so no AWS credentials or role are needed. botocore signed them only
because its model declares SigV4 for the service; what it did besides is carried here:

- the endpoint: the region's, resolved once by botocore (`participant_endpoint`, so every partition's
  domain is right), or the `endpoint_url` given (the local Amazon Connect);
- the standard retries: up to `max_attempts` calls for an error that is retryable (throttles, 5xx,
  no answer), waiting as botocore's standard mode does between them (full jitter, doubling from 1 s
  after a throttle, from 50 ms after anything else, at most 20 s), with the project's one `Backoff`;
- the error translation: the code from the `x-amzn-ErrorType` header, else the body's `code`/`Code`,
  else its `__type`, else the status, as botocore's rest-json parser reads it; the message from the
  body's `message`/`Message`; then `error_of_answer` sorts it (errors.py), as for any boto3 call;
- the region's health: each call recorded once, its retries inside it, with the outcome of its last
  attempt (health.py).

Not carried: botocore's retry quota (a bucket that stops retrying when most calls of a client fail)
and its adaptive mode; the client tokens make every retry harmless, so a retry here costs a call,
never a doubled message. The token is a header value only: it appears in no URL, no error and no log.
"""

from __future__ import annotations

import http
import http.client
import random
import time
from collections.abc import Callable

import boto3
import msgspec
from botocore import UNSIGNED
from botocore.config import Config

from connect_client.errors import AccessDenied, ConnectError, PermanentError, RetryableError, Throttled, error_of_answer
from connect_client.health import Outcome, RegionHealth, outcome_of_answer
from net.http import ConnectTimedOut, HttpAnswer, post
from retry import Backoff

# Each operation's path (botocore's model: every one a POST).
PATHS = {
    "CreateParticipantConnection": "/participant/connection",
    "SendMessage": "/participant/message",
    "SendEvent": "/participant/event",
    "DisconnectParticipant": "/participant/disconnect",
    "GetTranscript": "/participant/transcript",
}

# botocore's standard mode (retries/standard.py): t = rand(0, 1) * min(scale * 2 ** i, 20 s), the
# scale 1 s after a throttle and 50 ms after any other retryable error.
THROTTLE_FIRST = 1.0
ERROR_FIRST = 0.05
LONGEST_WAIT = 20.0


def participant_endpoint(region: str, session: boto3.session.Session | None = None) -> str:
    """The region's participant endpoint as botocore resolves it (its partition's domain, the
    session's configured endpoint if any), with no network and no credentials looked up: the
    client made to read it is unsigned and used for nothing else."""
    session = session or boto3.session.Session()
    client = session.client("connectparticipant", region_name=region, config=Config(signature_version=UNSIGNED))
    return str(client.meta.endpoint_url)


class ParticipantTransport:
    """POSTs one participant operation's JSON with its token, retries it, records it in `health`,
    and gives the answer's body or raises a `ConnectError`. Thread-safe: it holds no state per call.

    `wait` is how a retry waits (tests give one that records the delays instead); `rng` the
    backoffs' jitter."""

    def __init__(
        self,
        endpoint_url: str,
        health: RegionHealth,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 15.0,
        max_attempts: int = 3,
        connections: int = 128,
        wait: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, not {max_attempts}")
        self.endpoint_url = endpoint_url.rstrip("/")
        self.health = health
        self._urls = {operation: self.endpoint_url + path for operation, path in PATHS.items()}
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._max_attempts = max_attempts
        self._connections = connections
        self._wait = wait
        rng = rng or random.Random()
        self._after_throttle = Backoff(first=THROTTLE_FIRST, cap=LONGEST_WAIT, rng=rng)
        self._after_error = Backoff(first=ERROR_FIRST, cap=LONGEST_WAIT, rng=rng)

    def call(
        self, operation: str, token: str, request: bytes, access_denied: type[AccessDenied] = AccessDenied
    ) -> bytes:
        """The body of `operation`'s 2xx answer to `request` (JSON), sent with `token` as X-Amz-Bearer.
        A failure raises the `ConnectError` its last attempt gave (`access_denied`: the class a 403
        becomes)."""
        url = self._urls[operation]
        headers = {"Content-Type": "application/json", "X-Amz-Bearer": token}
        timer = self.health.timer
        started = timer()
        attempt = 1
        while True:
            result, outcome = self._attempt(operation, url, headers, request, access_denied)
            if not isinstance(result, ConnectError):
                self.health.record(Outcome.UP, timer() - started, operation)
                return result  # the answer's body
            failure = result
            if not failure.retryable or attempt >= self._max_attempts:
                if outcome is not None:
                    self.health.record(outcome, timer() - started, operation)
                raise failure
            backoff = self._after_throttle if isinstance(failure, Throttled) else self._after_error
            self._wait(backoff.delay(attempt))
            attempt += 1

    def _attempt(
        self, operation: str, url: str, headers: dict[str, str], request: bytes, access_denied: type[AccessDenied]
    ) -> tuple[bytes | ConnectError, Outcome | None]:
        """One POST: the answer's body, or the error it is and what it says of the region (None: the
        failure is ours, nothing was sent)."""
        try:
            answer = post(
                url, request, headers, self._read_timeout,
                connect_timeout=self._connect_timeout, connections=self._connections,
            )
        except (OSError, http.client.HTTPException) as error:
            return RetryableError(operation, _network_code(error), str(error)), Outcome.ERROR
        except ValueError as error:
            # A header http.client refuses (a token with a line break) or an endpoint that is no URL.
            # Its message may quote the header's value, the token: only its type is kept.
            return PermanentError(operation, type(error).__name__, "the request could not be made"), None
        if 200 <= answer.status < 300:
            return answer.body, Outcome.UP
        code, message = _error_of(answer)
        return error_of_answer(operation, answer.status, code, message, access_denied), outcome_of_answer(answer.status, code)


def _error_of(answer: HttpAnswer) -> tuple[str, str]:
    """(code, message) of an error answer, read as botocore's rest-json parser reads them."""
    try:
        body = msgspec.json.decode(answer.body) if answer.body else {}
    except msgspec.DecodeError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    code = answer.headers.get("x-amzn-errortype") or body.get("code") or body.get("Code") or body.get("__type")
    if not isinstance(code, str) or not code:
        code = str(answer.status)
    code = code.split(":", 1)[0].rsplit("#", 1)[-1]
    message = body.get("message", body.get("Message"))
    if not isinstance(message, str):
        message = _phrase(answer.status)
    return code, message


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


def _network_code(error: BaseException) -> str:
    """botocore's name for the same failure, so that a code reads the same whoever made the call."""
    if isinstance(error, ConnectTimedOut):
        return "ConnectTimeoutError"
    if isinstance(error, TimeoutError):
        return "ReadTimeoutError"
    if isinstance(error, (ConnectionResetError, ConnectionAbortedError, BrokenPipeError, http.client.HTTPException)):
        return "ConnectionClosedError"
    return "EndpointConnectionError"
