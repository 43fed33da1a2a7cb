"""What the running service reports as it goes, for its metrics.

    >>> class Counting(Observer):
    ...     def sent_to_agent(self, seconds: float) -> None:
    ...         self.sent += 1

The conversation actors, the timer service and each region's clients call an `Observer`; this one
does nothing (a service run without metrics: tests, benchmarks). The running service's Prometheus
metrics (metrics/service_metrics.py) override every method. Each call is made on the thread where the
thing happened, so it must be quick (a counter's increment) and must never raise.
"""

from __future__ import annotations

from connect_client.health import Outcome
from events.conversation_state import Phase


class Observer:
    def phase(self, conversation_id: str, phase: Phase | None) -> None:
        """The conversation's actor holds it in `phase` now (None: its actor stopped)."""

    def transferred(self) -> None:
        """A bot handed a conversation over (its `Transferred` is durable)."""

    def handed_back(self, reason: str) -> None:
        """A conversation was handed back to its bot, with this SessionEndReason."""

    def sent_to_agent(self, seconds: float) -> None:
        """Connect accepted a message of the bot's (one SendMessage: a piece of a long one counts
        alone), `seconds` after the API accepted it."""

    def recorded_for_bot(self, seconds: float) -> None:
        """An agent's message is durable for the bot, `seconds` after Connect's AbsoluteTime for it."""

    def timer_fired(self, lateness: float) -> None:
        """An auto-disconnect timer was handed to its conversation `lateness` seconds after it was due."""

    def connect_call(self, region: str, operation: str, outcome: Outcome, seconds: float) -> None:
        """A call to Amazon Connect in `region` finished (botocore's retries inside it)."""
