"""How one region's Amazon Connect is doing, as seen by the calls its clients make.

    >>> health = RegionHealth()
    >>> health.watch(session.client("connect", ...))   # counts each of the client's calls from now on
    >>> health.record(Outcome.UP, 0.012, "SendMessage") # a call made without boto3 (participant_http.py)
    >>> health.snapshot().consecutive_failures
    0

A call is one API operation as the caller sees it, its retries inside it: for the boto3 `connect`
client the hooks are botocore's `before-call`, `after-call` and `after-call-error` events, which wrap
botocore's retries; the participant calls' own transport records each call once, after its retries.
So a failure counted here is one that had already been retried. Each finished call is one of:

- an answer that shows the region up: any 2xx, or a 4xx that is no throttle (Connect refused the
  request, so it is there to refuse it); it ends a run of failures;
- a throttle: 429, or a throttle error code (ThrottlingException, TooManyRequestsException,
  LimitExceededException, ...);
- an error: a 5xx, or no answer at all (connection refused or reset, a timeout), or STS out of reach
  when the region's role was to be assumed;
- none of these: a call that failed before it was sent for a reason that is ours, not the region's
  (a role refused, a secret missing). It is not counted.

Throttles and errors in a row are `consecutive_failures`; `failing_since` is when the first of them
finished. `calls`, `errors` and `throttles` count since the clients were made; the rates and
latencies are over the last `window` calls. Whoever `listen`s is told of each call counted, with its
operation (the service's Prometheus metrics count them by operation and region: metrics/).
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from enum import Enum
from typing import Any

import msgspec
from botocore.exceptions import ConnectionError as EndpointUnreachable
from botocore.exceptions import HTTPClientError

from connect_client.errors import RetryableError, Throttled

DEFAULT_WINDOW = 1000

# botocore's own list of throttle codes (retries/standard.py), and Connect's LimitExceededException.
THROTTLE_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
    }
)

_STARTED = "connect_worker_health_started"
_OPERATION = "connect_worker_health_operation"

# Told of each call counted: (operation, outcome, seconds).
CallListener = Callable[[str, "Outcome", float], None]


class Outcome(Enum):
    UP = "up"
    THROTTLED = "throttled"
    ERROR = "error"


def outcome_of_answer(status: int, code: str | None) -> Outcome:
    """What an HTTP answer says of the region."""
    if status == 429 or (status >= 400 and code in THROTTLE_CODES):
        return Outcome.THROTTLED
    if status >= 500:
        return Outcome.ERROR
    return Outcome.UP


def outcome_of_exception(error: BaseException) -> Outcome | None:
    """What a call that got no answer says of the region; None when the failure is ours, not its."""
    if isinstance(error, (EndpointUnreachable, HTTPClientError)):
        return Outcome.ERROR
    if isinstance(error, Throttled):
        return Outcome.THROTTLED
    if isinstance(error, RetryableError):  # STS out of reach while assuming the region's role
        return Outcome.ERROR
    return None


class HealthSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    """The figures at one moment. Times are the clock's (Unix seconds); latencies in milliseconds,
    None before the first call; rates are shares (0..1) of the last `window_calls` calls."""

    calls: int
    errors: int
    throttles: int
    window_calls: int
    error_rate: float
    throttle_rate: float
    latency_p50_ms: float | None
    latency_p99_ms: float | None
    consecutive_failures: int
    last_success_at: float | None
    last_failure_at: float | None
    failing_since: float | None


class RegionHealth:
    """Thread-safe counters of one region's calls, fed by the boto3 clients it `watch`es.

    `clock` gives the times reported (Unix seconds); `timer` measures latency (monotonic seconds).
    Both are injectable so tests decide what each call took and when it happened.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        timer: Callable[[], float] = time.monotonic,
        window: int = DEFAULT_WINDOW,
    ) -> None:
        if window < 1:
            raise ValueError("window must be at least 1")
        self._clock = clock
        self._timer = timer
        self._lock = threading.Lock()
        self._recent: deque[tuple[float, Outcome]] = deque(maxlen=window)
        self._calls = 0
        self._errors = 0
        self._throttles = 0
        self._consecutive = 0
        self._last_success_at: float | None = None
        self._last_failure_at: float | None = None
        self._failing_since: float | None = None
        self._listeners: tuple[CallListener, ...] = ()

    @property
    def timer(self) -> Callable[[], float]:
        """The stopwatch latencies are measured with (monotonic seconds), for a caller that `record`s
        its own calls (connect_client/participant_http.py)."""
        return self._timer

    def listen(self, listener: CallListener) -> None:
        """Tell `listener(operation, outcome, seconds)` of every call counted from now on, on the calling
        thread, after the figures are updated; it must be quick and must not raise."""
        self._listeners = (*self._listeners, listener)

    def watch(self, client: Any) -> None:
        """Count every call `client` (a boto3 client) makes from now on. The events are the client's
        own (botocore gives each client a copy of the session's), so other clients are not counted."""
        events = client.meta.events
        events.register("before-call.*", self._before, unique_id=f"region-health-before-{id(self)}")
        events.register("after-call.*", self._after, unique_id=f"region-health-after-{id(self)}")
        events.register("after-call-error.*", self._after_error, unique_id=f"region-health-error-{id(self)}")

    def record(self, outcome: Outcome, seconds: float, operation: str = "") -> None:
        """One finished call of `operation` (botocore's name: "StartChatContact") that took `seconds`."""
        now = self._clock()
        with self._lock:
            self._calls += 1
            self._recent.append((seconds, outcome))
            if outcome is Outcome.UP:
                self._consecutive = 0
                self._failing_since = None
                self._last_success_at = now
            else:
                if outcome is Outcome.ERROR:
                    self._errors += 1
                else:
                    self._throttles += 1
                self._consecutive += 1
                self._last_failure_at = now
                if self._failing_since is None:
                    self._failing_since = now
        for listener in self._listeners:
            listener(operation, outcome, seconds)

    def snapshot(self) -> HealthSnapshot:
        with self._lock:
            recent = list(self._recent)
            snapshot = HealthSnapshot(
                calls=self._calls,
                errors=self._errors,
                throttles=self._throttles,
                window_calls=len(recent),
                error_rate=0.0,
                throttle_rate=0.0,
                latency_p50_ms=None,
                latency_p99_ms=None,
                consecutive_failures=self._consecutive,
                last_success_at=self._last_success_at,
                last_failure_at=self._last_failure_at,
                failing_since=self._failing_since,
            )
        if not recent:
            return snapshot
        latencies = sorted(seconds for seconds, _ in recent)
        return msgspec.structs.replace(
            snapshot,
            error_rate=_share(recent, Outcome.ERROR),
            throttle_rate=_share(recent, Outcome.THROTTLED),
            latency_p50_ms=_percentile_ms(latencies, 0.50),
            latency_p99_ms=_percentile_ms(latencies, 0.99),
        )

    def _before(self, model: Any, context: dict[str, Any], **_: Any) -> None:
        context[_STARTED] = self._timer()
        context[_OPERATION] = model.name

    def _after(self, http_response: Any, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        started = context.pop(_STARTED, None)
        if started is None:
            return
        code = (parsed.get("Error") or {}).get("Code") if isinstance(parsed, dict) else None
        outcome = outcome_of_answer(http_response.status_code, code)
        self.record(outcome, self._timer() - started, context.pop(_OPERATION, ""))

    def _after_error(self, exception: BaseException, context: dict[str, Any], **_: Any) -> None:
        started = context.pop(_STARTED, None)
        operation = context.pop(_OPERATION, "")
        outcome = outcome_of_exception(exception)
        if started is not None and outcome is not None:
            self.record(outcome, self._timer() - started, operation)


def _share(recent: list[tuple[float, Outcome]], outcome: Outcome) -> float:
    return sum(1 for _, seen in recent if seen is outcome) / len(recent)


def _percentile_ms(ordered: list[float], share: float) -> float:
    """Nearest rank, as bench/load.py's `percentile`."""
    value = ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)]
    return round(value * 1000, 3)
