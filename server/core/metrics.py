"""Prometheus metrics counted inside the app processes (request rates, latency, pushes and their
verdicts, the push gate, the tile cache) and by the worker (jobs, notifications).

Under gunicorn each worker process counts its own; with PROMETHEUS_MULTIPROC_DIR set (as
`rangersync serve` does) they are summed at /metrics. State of the world (queue lag, silent
devices, undelivered SOS notifications, the last backup) is read from the database at scrape time
instead: see server/ops/metrics.py. Names follow Prometheus conventions: rangersync_*, _total
for counters, base units (seconds, bytes).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import Counter, Gauge, Histogram

from server.core import logs

REQUESTS = Counter(
    "rangersync_http_requests_total",
    "HTTP requests answered, by route template and status",
    ["method", "endpoint", "status"],
)
REQUEST_SECONDS = Histogram(
    "rangersync_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template",
    ["method", "endpoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
PUSH_RECORDS = Counter(
    "rangersync_push_records_total",
    "Records received in sync pushes, by kind and verdict",
    ["kind", "verdict"],
)
PUSH_FIXES = Counter(
    "rangersync_push_fixes_total",
    "GPS fixes received in track chunks, by outcome (stored, duplicate, …)",
    ["outcome"],
)
PUSH_GATE_INSIDE = Gauge(
    "rangersync_push_gate_pushes",
    "Pushes being worked on or waiting for a slot, summed over live processes",
    multiprocess_mode="livesum",
)
PUSH_GATE_REFUSED = Counter(
    "rangersync_push_gate_refused_total",
    "Pushes answered 503 + Retry-After because the push queue was full",
)
TILE_CACHE = Counter(
    "rangersync_tile_cache_requests_total",
    "Vector tile requests by cache result: hit, miss (rendered), stale (re-rendered)",
    ["result"],
)
JOBS = Counter(
    "rangersync_worker_jobs_total",
    "Worker jobs finished, by task and outcome (succeeded, failed)",
    ["task", "outcome"],
)
NOTIFICATIONS = Counter(
    "rangersync_notification_attempts_total",
    "Notification delivery attempts, by channel and resulting state (sent, pending, failed)",
    ["channel", "state"],
)


def count_push(verdicts: list) -> None:
    """After a push committed: its records by kind and verdict, its fixes by outcome."""
    for verdict in verdicts:
        PUSH_RECORDS.labels(verdict.kind or "unknown", verdict.verdict).inc()
        for outcome, n in (verdict.points or {}).items():
            if n:
                PUSH_FIXES.labels(outcome).inc(n)


@contextmanager
def job_run(task: str, request_id: str | None = None) -> Iterator[None]:
    """A worker job: counted by outcome, logged under the request that deferred it."""
    token = logs.request_id.set(request_id)
    try:
        yield
    except Exception:
        JOBS.labels(task, "raised").inc()  # a retry to come, or given up: the queue tells
        raise
    else:
        JOBS.labels(task, "succeeded").inc()
    finally:
        logs.request_id.reset(token)
