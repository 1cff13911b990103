"""Prometheus metrics, in the process's default registry (``/metrics`` serves them).

Labels are bounded: operation names are the client's, so only well-formed ones are kept,
up to ``MAX_OPERATION_NAMES`` distinct ones; the rest count as ``other``."""

from __future__ import annotations

import os
import re
from typing import Any

from prometheus_client import Counter, Gauge, Histogram, Info

MAX_OPERATION_NAMES = 200
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_seen_names: set[str] = set()

REQUESTS = Counter(
    "seqgql_graphql_requests_total",
    "GraphQL operations over HTTP, by operation name and outcome (ok, error).",
    ["operation", "outcome"],
)
LATENCY = Histogram(
    "seqgql_graphql_request_duration_seconds",
    "Time to execute a GraphQL operation over HTTP, by operation name.",
    ["operation"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
# which process answers /metrics: one of `seqgql serve --workers N` (each keeps its own)
PROCESS = Info("seqgql_process", "The server process that answered.")
WEBSOCKETS = Gauge("seqgql_websocket_connections", "Open websocket connections.")
SUBSCRIBERS = Gauge("seqgql_subscribers", "Subscriptions sharing live feeds right now.")
BROADCAST_RECONNECTS = Counter(
    "seqgql_broadcast_reconnects_total", "Times the cross-process broadcast listener was lost."
)
ENGINE_STEPS = Counter(
    "seqgql_engine_steps_total",
    "What the engine did with due steps, by outcome (sent, bounced, failed, retried, ...).",
    ["outcome"],
)
BULK_ROWS = Counter(
    "seqgql_bulk_rows_changed_total",
    "Enrollments changed by bulk actions, by action.",
    ["action"],
)


_NAMED = re.compile(r"\s*(?:query|mutation|subscription)\s+([A-Za-z_][A-Za-z0-9_]*)")


def operation_label(name: str | None, query: str | None = None) -> str:
    """The label for a client's operation: its ``operationName``, else the name of the
    document's operation when it starts with a named one; ``anonymous``; ``other`` past
    the cap or for a name that is not a GraphQL name."""
    if not name and query:
        named = _NAMED.match(query[:1000])
        name = named.group(1) if named else None
    if not name:
        return "anonymous"
    if name in _seen_names:
        return name
    if not _NAME.fullmatch(name) or len(_seen_names) >= MAX_OPERATION_NAMES:
        return "other"
    _seen_names.add(name)
    return name


# the metrics' children by label values, as bounded as the labels (``labels()`` takes a lock
# and builds a key on every call)
_latencies: dict[str, Any] = {}
_counts: dict[tuple[str, str], Any] = {}


def observe_operation(operation: str, seconds: float, outcome: str) -> None:
    """One GraphQL operation over HTTP (its ``operation_label``): its time in ``LATENCY``,
    one more in ``REQUESTS`` for its outcome (``ok``, ``error``)."""
    latency = _latencies.get(operation)
    if latency is None:
        latency = _latencies[operation] = LATENCY.labels(operation)
    latency.observe(seconds)
    count = _counts.get((operation, outcome))
    if count is None:
        count = _counts[operation, outcome] = REQUESTS.labels(operation, outcome)
    count.inc()


def label_process() -> None:
    """Note this process's id in ``seqgql_process_info`` (once per app)."""
    PROCESS.info({"pid": str(os.getpid())})
