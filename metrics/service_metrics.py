"""The running service's Prometheus metrics, in a registry of its own.

    >>> metrics = ServiceMetrics()
    >>> service = WorkerService(store, regions, observer=metrics)   # the actors, timers and clients report
    >>> store.watch(metrics)                                        # appends and group commits
    >>> metrics.read_at_scrape(service, deliverer)                  # what is read only when scraped
    >>> metrics.render()                                            # GET /metrics
    b'# HELP connect_worker_conversations ...'

Events are counted where they happen, by the thread they happen on: a counter's increment or a
histogram's observation (each a lock of prometheus_client's own, held for a few instructions). What is
a level, not an event (conversations by phase, timers pending, the store's size, webhook backlog), is
read when Prometheus scrapes (metrics/scraped.py), so nothing runs between scrapes. Every name is in
metrics/README.md. No label holds a token or a secret: labels are regions, operation names,
SessionEndReasons, phases and API client ids.

The registry is the instance's, not prometheus_client's global one, so services started one after the
other (or side by side) in one process each count their own.
"""

from __future__ import annotations

import threading
from collections import Counter as Tally

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    Info,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from actors.observer import Observer
from connect_client.health import Outcome
from events.conversation_state import Phase
from metrics.scraped import Scraped
from service.status_file import service_version
from service.worker_service import WorkerService
from delivery import WebhookDeliverer

# The text format every Prometheus reads (what prometheus_client answers a scraper that asks for nothing else).
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
LIVE_PHASES: tuple[Phase, ...] = ("new", "starting", "started", "connected", "ended")
SESSION_END_REASONS = ("UserLeft", "AgentLeft", "Error")

# Seconds. A relay takes milliseconds when all is well, and minutes when Connect or the service was
# down (a message recovered after a restart counts its whole wait).
RELAY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
CALL_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
APPEND_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096)
LATENESS_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)


class ServiceMetrics(Observer):
    """The service's metrics: an `Observer` for the actors, timers and Connect clients, and a
    `StoreObserver` for the event store."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        ProcessCollector(registry=registry)  # process_cpu_seconds_total, process_resident_memory_bytes, ...
        PlatformCollector(registry=registry)  # python_info
        Info("connect_worker_build", "This code's version", registry=registry).info({"version": service_version()})
        self._phases = PhaseCounts()
        self._scraped = Scraped(self._phases.counts, LIVE_PHASES)
        registry.register(self._scraped)

        self._transfers = Counter(
            "connect_worker_transfers", "Conversations bots handed over (Transferred durable)", registry=registry
        )
        handbacks = Counter(
            "connect_worker_handbacks", "Conversations handed back to their bot, by SessionEndReason", ["reason"],
            registry=registry,
        )
        self._handbacks = {reason: handbacks.labels(reason) for reason in SESSION_END_REASONS}
        self._handback_family = handbacks
        self._to_agent = Counter(
            "connect_worker_messages_to_agent",
            "Bot messages Amazon Connect accepted (SendMessage answered; each piece of a long message counts)",
            registry=registry,
        )
        self._to_bot = Counter(
            "connect_worker_messages_to_bot", "Agent messages recorded for the bot (durable in the log)",
            registry=registry,
        )
        self._to_agent_seconds = Histogram(
            "connect_worker_relay_to_agent_seconds",
            "From the API accepting a bot message to Amazon Connect's SendMessage answer",
            buckets=RELAY_BUCKETS, registry=registry,
        )
        self._to_bot_seconds = Histogram(
            "connect_worker_relay_to_bot_seconds",
            "From Amazon Connect's AbsoluteTime of an agent message to its event being durable",
            buckets=RELAY_BUCKETS, registry=registry,
        )
        labels = ["region", "operation"]
        self._calls = Counter(
            "connect_worker_connect_calls", "Calls to Amazon Connect (botocore's retries inside one)", labels,
            registry=registry,
        )
        self._errors = Counter(
            "connect_worker_connect_errors", "Calls to Amazon Connect answered 5xx, or not at all", labels,
            registry=registry,
        )
        self._throttles = Counter(
            "connect_worker_connect_throttles", "Calls to Amazon Connect throttled", labels, registry=registry
        )
        self._call_seconds = Histogram(
            "connect_worker_connect_call_seconds", "How long calls to Amazon Connect took", labels,
            buckets=CALL_BUCKETS, registry=registry,
        )
        self._call_children: dict[tuple[str, str], tuple[Counter, Counter, Counter, Histogram]] = {}
        self._append_seconds = Histogram(
            "connect_worker_store_append_seconds",
            "From an append handed to the store's writer to its commit (waiting for its batch, the fsync)",
            buckets=APPEND_BUCKETS, registry=registry,
        )
        self._batch_appends = Histogram(
            "connect_worker_store_batch_appends", "Appends committed together in one group commit (one fsync)",
            buckets=BATCH_BUCKETS, registry=registry,
        )
        self._commit_seconds = Histogram(
            "connect_worker_store_commit_seconds", "How long one group commit's transaction took, fsync included",
            buckets=APPEND_BUCKETS, registry=registry,
        )
        self._lateness = Histogram(
            "connect_worker_timer_lateness_seconds", "How long after its due time a timer reached its conversation",
            buckets=LATENESS_BUCKETS, registry=registry,
        )

    def read_at_scrape(self, service: WorkerService, deliverer: WebhookDeliverer) -> None:
        """From now on a scrape also reads the service's timers, regions and store, and the deliverer."""
        self._scraped.watch(service, deliverer)

    def stop_reading(self) -> None:
        """Scrapes read nothing of the service any more (it is stopping); its connection is closed."""
        self._scraped.unwatch()

    def render(self) -> bytes:
        """The text exposition format (CONTENT_TYPE)."""
        return generate_latest(self.registry)

    # -- what the actors, the timer service and the clients tell (actors/observer.py) ------------------

    def phase(self, conversation_id: str, phase: Phase | None) -> None:
        self._phases.set(conversation_id, phase)

    def transferred(self) -> None:
        self._transfers.inc()

    def handed_back(self, reason: str) -> None:
        child = self._handbacks.get(reason)
        (child if child is not None else self._handback_family.labels(reason)).inc()

    def sent_to_agent(self, seconds: float) -> None:
        self._to_agent.inc()
        self._to_agent_seconds.observe(seconds)

    def recorded_for_bot(self, seconds: float) -> None:
        self._to_bot.inc()
        self._to_bot_seconds.observe(seconds)

    def timer_fired(self, lateness: float) -> None:
        self._lateness.observe(lateness)

    def connect_call(self, region: str, operation: str, outcome: Outcome, seconds: float) -> None:
        key = (region, operation)
        children = self._call_children.get(key)
        if children is None:
            children = (
                self._calls.labels(*key), self._errors.labels(*key), self._throttles.labels(*key),
                self._call_seconds.labels(*key),
            )
            self._call_children[key] = children  # two threads may make it at once: labels() gives both the same
        calls, errors, throttles, latency = children
        calls.inc()
        latency.observe(seconds)
        if outcome is Outcome.ERROR:
            errors.inc()
        elif outcome is Outcome.THROTTLED:
            throttles.inc()

    # -- what the event store tells (store/observer.py) ------------------------------------------------

    def appended(self, seconds: float) -> None:
        self._append_seconds.observe(seconds)

    def committed(self, appends: int, events: int, seconds: float) -> None:
        self._batch_appends.observe(appends)
        self._commit_seconds.observe(seconds)


class PhaseCounts:
    """How many conversations each live actor's phase holds, kept as the actors change phase (a few
    times in a conversation's life), so a scrape copies a handful of numbers, never asks an actor."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._phase_of: dict[str, Phase] = {}
        self._tally: Tally[Phase] = Tally()

    def set(self, conversation_id: str, phase: Phase | None) -> None:
        """The conversation's phase now; None or "returned": it is no longer live."""
        with self._lock:
            before = self._phase_of.pop(conversation_id, None)
            if before is not None:
                self._tally[before] -= 1
            if phase is not None and phase != "returned":
                self._phase_of[conversation_id] = phase
                self._tally[phase] += 1

    def counts(self) -> dict[Phase, int]:
        with self._lock:
            return dict(self._tally)

    def __len__(self) -> int:
        with self._lock:
            return len(self._phase_of)


__all__ = ["CONTENT_TYPE", "PhaseCounts", "ServiceMetrics"]
