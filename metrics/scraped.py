"""What is read only when Prometheus scrapes: levels, not events.

A prometheus_client collector (`collect` is called by each scrape, on the API's thread pool). Each read
is cheap however many conversations are live: the phase counts are a handful of numbers kept by the
actors, the timers pending one lock, the store's figures its writer's counters and two `stat`s, the
regions' figures their health counters; the webhook backlog is one query, an index lookup per live
conversation with a webhook (delivery/backlog.py: about 17 ms with 10,000). A source that fails to
answer (the store closing under a scrape) is left out of that scrape and logged, once until it answers
again; the others are still given.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from delivery.backlog import DeliveryBacklog
from store.file_size import store_size

if TYPE_CHECKING:
    from delivery import WebhookDeliverer
    from service.worker_service import WorkerService

log = logging.getLogger(__name__)

NO_CLIENT = "none"  # the label of conversations from before API clients


class Scraped(Collector):
    def __init__(self, phases: Callable[[], dict[str, int]], live_phases: tuple[str, ...]) -> None:
        self._phases = phases
        self._live_phases = live_phases
        self._lock = threading.Lock()
        self._service: WorkerService | None = None
        self._deliverer: WebhookDeliverer | None = None
        self._backlog: DeliveryBacklog | None = None
        self._failing: set[str] = set()

    def watch(self, service: WorkerService, deliverer: WebhookDeliverer) -> None:
        with self._lock:
            self._service, self._deliverer = service, deliverer
            self._backlog = DeliveryBacklog(service.store)

    def unwatch(self) -> None:
        with self._lock:
            backlog, self._backlog = self._backlog, None
            self._service = self._deliverer = None
        if backlog is not None:
            backlog.close()

    def collect(self) -> Iterator[Metric]:
        yield self._conversations()
        with self._lock:
            service, deliverer, backlog = self._service, self._deliverer, self._backlog
        if service is not None:
            yield from self._read("timers", lambda: _timers(service))
            yield from self._read("store", lambda: _store(service))
            yield from self._read("regions", lambda: _regions(service))
        if deliverer is not None and backlog is not None:
            yield from self._read("webhooks", lambda: _webhooks(deliverer, backlog))

    def _conversations(self) -> Metric:
        family = GaugeMetricFamily(
            "connect_worker_conversations", "Live conversations (with a running actor) by phase", labels=["phase"]
        )
        counts = self._phases()
        for phase in self._live_phases:
            family.add_metric([phase], counts.get(phase, 0))
        return family

    def _read(self, source: str, read: Callable[[], list[Metric]]) -> list[Metric]:
        try:
            families = read()
        except Exception as error:  # noqa: BLE001 - one source failing must not fail the scrape
            if source not in self._failing:
                log.warning("metrics: the %s could not be read for this scrape (%s: %s)", source,
                            type(error).__name__, error)
            self._failing.add(source)
            return []
        self._failing.discard(source)
        return families


def _timers(service: WorkerService) -> list[Metric]:
    return [
        GaugeMetricFamily(
            "connect_worker_timers_pending",
            "Auto-disconnect timers waiting to fire in the timer service",
            value=service.timers.pending(),
        )
    ]


def _store(service: WorkerService) -> list[Metric]:
    stats = service.store.stats()
    size = store_size(service.store.path)
    return [
        CounterMetricFamily("connect_worker_store_appends", "Appends committed to the event log", value=stats.appends),
        CounterMetricFamily("connect_worker_store_events", "Events committed to the event log", value=stats.events),
        CounterMetricFamily(
            "connect_worker_store_batches", "Group commits (transactions, one fsync each)", value=stats.batches
        ),
        GaugeMetricFamily("connect_worker_store_queued_appends", "Appends waiting for the writer", value=stats.queued),
        GaugeMetricFamily("connect_worker_store_file_bytes", "The event store's file", value=size.file_bytes),
        GaugeMetricFamily("connect_worker_store_wal_bytes", "The event store's write-ahead log", value=size.wal_bytes),
    ]


def _regions(service: WorkerService) -> list[Metric]:
    failures: dict[str, int] = {}
    for supervisor in service.supervisors():
        region = supervisor.clients.region
        now = supervisor.clients.health.snapshot().consecutive_failures
        failures[region] = max(failures.get(region, 0), now)
    family = GaugeMetricFamily(
        "connect_worker_connect_consecutive_failures",
        "Errors and throttles in a row in the region (what automatic failover counts)",
        labels=["region"],
    )
    for region, count in sorted(failures.items()):
        family.add_metric([region], count)
    return [family]


def _webhooks(deliverer: WebhookDeliverer, backlog: DeliveryBacklog) -> list[Metric]:
    stats = deliverer.stats()
    deliveries = CounterMetricFamily(
        "connect_worker_webhook_deliveries", "Bot messages posted to webhooks, by outcome", labels=["outcome"]
    )
    deliveries.add_metric(["delivered"], stats.delivered)
    deliveries.add_metric(["refused"], stats.refused)
    figures = backlog.figures()
    now = time.time()
    messages = GaugeMetricFamily(
        "connect_worker_webhook_backlog_messages", "Bot messages in the log not yet delivered to the webhook, by "
        "API client", labels=["client"],
    )
    conversations = GaugeMetricFamily(
        "connect_worker_webhook_backlog_conversations", "Conversations with a message not yet delivered to the "
        "webhook, by API client", labels=["client"],
    )
    oldest = GaugeMetricFamily(
        "connect_worker_webhook_oldest_waiting_seconds", "How long the oldest message not yet delivered has been "
        "in the log, by API client", labels=["client"],
    )
    due_lag = GaugeMetricFamily(
        "connect_worker_webhook_due_lag_seconds", "How long the oldest message due to the webhooks (not "
        "waiting for a retry) has waited since it was recorded, by API client: over the limit, the client's new "
        "messages and transfers are refused with 429", labels=["client"],
    )
    for client_id, lag in sorted(deliverer.lags().items(), key=lambda item: item[0] or ""):
        due_lag.add_metric([client_id or NO_CLIENT], lag)
    for waiting in figures.backlog:
        client = [waiting.client_id or NO_CLIENT]
        messages.add_metric(client, waiting.messages)
        conversations.add_metric(client, waiting.conversations)
        oldest.add_metric(client, max(0.0, now - waiting.oldest_at))
    families: list[Metric] = [
        deliveries,
        CounterMetricFamily(
            "connect_worker_webhook_retries", "Webhook posts to be tried again (a 5xx, 408, 429, no answer)",
            value=stats.retries,
        ),
        messages,
        conversations,
        oldest,
        due_lag,
    ]
    if figures.lag is not None:
        families.append(
            GaugeMetricFamily(
                "connect_worker_webhook_tail_lag", "Log positions the webhook deliverer has not scanned yet",
                value=figures.lag,
            )
        )
    return families
