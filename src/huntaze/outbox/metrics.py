"""Prometheus metrics (prometheus-client): counters kept by each process, and gauges read
from the database at scrape time so every worker's work shows, whichever process is scraped."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, select

from huntaze.models.messaging import PRIORITY_NAMES, BreakerState, OutboxMessage, SendingAccount
from huntaze.outbox.service import Claimed

BREAKER_VALUES: dict[str, int] = {
    BreakerState.CLOSED: 0,
    BreakerState.HALF_OPEN: 1,
    BreakerState.OPEN: 2,
}
LATENCY_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class OutboxCollector(Collector):
    """Queue depth and oldest age by platform and priority, messages by status, and each
    sending account's circuit-breaker state (0 closed, 1 half open, 2 open)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """Query the database once per scrape."""
        depth = GaugeMetricFamily(
            "huntaze_queue_depth", "Messages queued or in flight", labels=["platform", "priority"]
        )
        oldest = GaugeMetricFamily(
            "huntaze_queue_oldest_created_timestamp_seconds",
            "Creation time (Unix seconds) of the oldest queued message",
            labels=["platform"],
        )
        by_status = GaugeMetricFamily(
            "huntaze_outbox_messages", "Outbox rows by status", labels=["platform", "status"]
        )
        breaker = GaugeMetricFamily(
            "huntaze_circuit_breaker_state",
            "Circuit breaker per sending account: 0 closed, 1 half open, 2 open",
            labels=["account_id", "platform"],
        )
        with self.engine.connect() as conn:
            for platform, priority, n in conn.execute(
                select(OutboxMessage.platform, OutboxMessage.priority, func.count())
                .where(OutboxMessage.status.in_(("queued", "processing")))
                .group_by(OutboxMessage.platform, OutboxMessage.priority)
            ):
                depth.add_metric([platform, PRIORITY_NAMES.get(priority, "medium")], float(n))
            for platform, first in conn.execute(
                select(OutboxMessage.platform, func.min(OutboxMessage.created_at))
                .where(OutboxMessage.status == "queued")
                .group_by(OutboxMessage.platform)
            ):
                if first is not None:
                    stamp = first if not isinstance(first, str) else _parse(first)
                    oldest.add_metric([platform], stamp.timestamp())
            for platform, status, n in conn.execute(
                select(OutboxMessage.platform, OutboxMessage.status, func.count()).group_by(
                    OutboxMessage.platform, OutboxMessage.status
                )
            ):
                by_status.add_metric([platform, status], float(n))
            for account_id, platform, state in conn.execute(
                select(SendingAccount.id, SendingAccount.platform, SendingAccount.breaker_state)
            ):
                breaker.add_metric([account_id, platform], float(BREAKER_VALUES.get(state, 0)))
        yield depth
        yield oldest
        yield by_status
        yield breaker


def _parse(text: str) -> datetime:
    """SQLite's MIN() over a timestamp column gives the stored UTC text."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


class Metrics:
    """The process's metrics, in their own registry (so tests and several apps never clash).

    Counters: ``huntaze_messages_queued_total``, ``huntaze_messages_sent_total``,
    ``huntaze_messages_failed_total``, ``huntaze_message_retries_total`` (by platform);
    histogram ``huntaze_send_latency_seconds``; plus :class:`OutboxCollector`'s gauges.
    """

    def __init__(self, engine: Engine) -> None:
        self.registry = CollectorRegistry()
        labels = ["platform"]
        self.queued_total = Counter(
            "huntaze_messages_queued", "Messages queued", labels, registry=self.registry
        )
        self.sent_total = Counter(
            "huntaze_messages_sent", "Messages sent", labels, registry=self.registry
        )
        self.failed_total = Counter(
            "huntaze_messages_failed", "Messages failed for good", labels, registry=self.registry
        )
        self.retries_total = Counter(
            "huntaze_message_retries", "Send attempts to be retried", labels, registry=self.registry
        )
        self.latency = Histogram(
            "huntaze_send_latency_seconds",
            "Time of one platform send",
            labels,
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(OutboxCollector(engine))
        self._children: dict[str, tuple[Histogram, Counter, Counter, Counter]] = {}

    def queued(self, platform: str, count: int) -> None:
        """Count ``count`` newly queued messages."""
        if count:
            self.queued_total.labels(platform).inc(count)

    def observe(self, item: Claimed, outcome: str, seconds: float) -> None:
        """The worker's observer: count an outcome and its latency (seconds)."""
        platform = item.message.platform
        children = self._children.get(platform)
        if children is None:
            # labels() costs a locked lookup per call; a worker sees few platforms, so their
            # labelled children are kept
            children = self._children[platform] = (
                self.latency.labels(platform),
                self.sent_total.labels(platform),
                self.failed_total.labels(platform),
                self.retries_total.labels(platform),
            )
        latency, sent, failed, retries = children
        latency.observe(seconds)
        if outcome == "sent":
            sent.inc()
        elif outcome == "failed":
            failed.inc()
        elif outcome == "retry":
            retries.inc()

    def render(self) -> bytes:
        """The text exposition format."""
        return bytes(generate_latest(self.registry))
