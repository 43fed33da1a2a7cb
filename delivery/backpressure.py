"""When the bots' API refuses a bot's new work because webhook delivery to that bot is behind.

"Behind" is the webhook deliverer's own lag for the bot (`WebhookDeliverer.lag`): how long the oldest
message due to one of its conversations has waited since it was recorded, counting only messages
that are not waiting for their webhook's retry. It is measured per API client, so that no bot can
make another one refused: a bot whose webhook is down backs off and counts for nothing, and one
whose webhook is slow (or one whose many conversations keep the deliverer busy) is refused alone,
unless the whole service cannot keep up, when every bot's lag grows. Past the limit the bot's new
messages and transfers are refused with 429 and `Retry-After`, instead of accepted and answered
minutes late.
"""

from __future__ import annotations

import math
from collections.abc import Callable

DEFAULT_LAG_LIMIT_SECONDS = 10.0
MAX_RETRY_AFTER_SECONDS = 60


class Backpressure:
    """`lag(client_id)`: seconds the oldest due message of that client's conversations has waited."""

    def __init__(self, lag: Callable[[str | None], float], limit_seconds: float = DEFAULT_LAG_LIMIT_SECONDS) -> None:
        self._lag = lag
        self.limit_seconds = limit_seconds

    def retry_after(self, client_id: str) -> int | None:
        """None while the client's lag is within the limit; else the whole seconds to tell the bot to
        wait: how far the lag is past the limit (1 to MAX_RETRY_AFTER_SECONDS), the time the backlog past
        the limit took to build, so roughly what the deliverer needs to be back within it."""
        lag = self._lag(client_id)
        if lag <= self.limit_seconds:
            return None
        return min(MAX_RETRY_AFTER_SECONDS, max(1, math.ceil(lag - self.limit_seconds)))
