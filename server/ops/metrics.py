"""GET /metrics: the app processes' counters (summed over gunicorn's workers in multiprocess
mode) and the state of the world read from the database at scrape time, which is the same
whichever app node Prometheus asks: worker queues and their lag, failed jobs, live workers,
notifications not delivered (SOS first), devices silent for more than SILENT_DEVICE_HOURS, the
last backup, free disk. A database that cannot be reached gives rangersync_database_up 0, not 500.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Iterator
from datetime import datetime

from flask import Blueprint, Response, current_app
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker

from server.config import Config
from server.ops.backup import read_status

log = logging.getLogger(__name__)
blp = Blueprint("metrics", __name__)
WORKER_ALIVE_S = 30  # a worker whose heartbeat is older is counted dead
QUEUES = ("notifications", "safety")  # the worker's queues (server/notify/worker.py)

_QUEUES = """
SELECT j.queue_name AS queue, count(*) AS depth,
       coalesce(max(extract(epoch FROM now() - greatest(e.at, j.scheduled_at))), 0) AS oldest
FROM procrastinate.procrastinate_jobs j
LEFT JOIN LATERAL (
    SELECT min(at) AS at FROM procrastinate.procrastinate_events
    WHERE job_id = j.id AND type = 'deferred'
) e ON true
WHERE j.status = 'todo' AND (j.scheduled_at IS NULL OR j.scheduled_at <= now())
GROUP BY j.queue_name
"""
_FAILED_JOBS = """
SELECT task_name AS task, count(*) AS n FROM procrastinate.procrastinate_jobs
WHERE status = 'failed' GROUP BY task_name
"""
_WORKERS = """
SELECT count(*) FROM procrastinate.procrastinate_workers
WHERE last_heartbeat > now() - make_interval(secs => :alive)
"""
_NOTIFICATIONS = """
SELECT a.kind, n.state, count(*) AS n,
       coalesce(max(extract(epoch FROM now() - n.created_at))
                FILTER (WHERE n.state IN ('pending', 'sending')), 0) AS oldest
FROM notifications n JOIN safety_alerts a ON a.id = n.alert_id
GROUP BY a.kind, n.state
"""
_SILENT = """
SELECT a.slug, count(d.id) FILTER (
           WHERE coalesce(d.last_seen_at, d.enrolled_at) < now() - make_interval(hours => :hours)
       ) AS silent,
       count(d.id) AS active
FROM areas a LEFT JOIN devices d ON d.area_id = a.id AND d.revoked_at IS NULL
GROUP BY a.slug
"""


class StateCollector(Collector):
    """Gauges computed on each scrape from the database, the backup status and the disks."""

    def __init__(self, config: Config, sessions: sessionmaker) -> None:
        self.config = config
        self.sessions = sessions

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("rangersync_database_up", "1 if /metrics could read the database")
        try:
            families = list(self._from_database())
        except SQLAlchemyError as error:
            log.warning("metrics: database unreachable: %s", error.__class__.__name__)
            families = []
        up.add_metric([], 1 if families else 0)
        yield up
        yield from families
        yield from self._backups()
        yield from self._disks()

    def _from_database(self) -> Iterator[Metric]:
        with self.sessions() as session:
            depth = GaugeMetricFamily(
                "rangersync_worker_queue_jobs", "Jobs waiting to run", labels=["queue"]
            )
            lag = GaugeMetricFamily(
                "rangersync_worker_queue_lag_seconds",
                "Age of the oldest job waiting to run (0 when none wait)",
                labels=["queue"],
            )
            waiting = {queue: (0, 0.0) for queue in QUEUES}  # an empty queue reports 0, not nothing
            for row in session.execute(text(_QUEUES)):
                waiting[row.queue] = (row.depth, float(row.oldest))
            for queue, (jobs, oldest) in waiting.items():
                depth.add_metric([queue], jobs)
                lag.add_metric([queue], oldest)
            failed = GaugeMetricFamily(
                "rangersync_worker_jobs_failed", "Jobs given up, kept for review", labels=["task"]
            )
            for row in session.execute(text(_FAILED_JOBS)):
                failed.add_metric([row.task], row.n)
            workers = GaugeMetricFamily(
                "rangersync_workers_alive",
                f"Workers with a heartbeat in the last {WORKER_ALIVE_S} s",
            )
            workers.add_metric([], session.scalar(text(_WORKERS), {"alive": WORKER_ALIVE_S}))
            notes = GaugeMetricFamily(
                "rangersync_notifications",
                "Notifications in the outbox by alert kind and state",
                labels=["kind", "state"],
            )
            undelivered = GaugeMetricFamily(
                "rangersync_notifications_undelivered_oldest_seconds",
                "Age of the oldest notification not yet delivered, by alert kind (sos first)",
                labels=["kind"],
            )
            oldest: dict[str, float] = {}
            for row in session.execute(text(_NOTIFICATIONS)):
                notes.add_metric([row.kind, row.state], row.n)
                oldest[row.kind] = max(oldest.get(row.kind, 0.0), float(row.oldest))
            for kind, age in oldest.items():
                undelivered.add_metric([kind], age)
            hours = self.config.silent_device_hours
            silent = GaugeMetricFamily(
                "rangersync_devices_silent",
                f"Active devices not heard from for more than {hours} hours",
                labels=["area"],
            )
            active = GaugeMetricFamily(
                "rangersync_devices_active", "Enrolled, not revoked devices", labels=["area"]
            )
            for row in session.execute(text(_SILENT), {"hours": hours}):
                silent.add_metric([row.slug], row.silent)
                active.add_metric([row.slug], row.active)
        yield from (depth, lag, failed, workers, notes, undelivered, silent, active)

    def _backups(self) -> Iterator[Metric]:
        last = GaugeMetricFamily(
            "rangersync_backup_last_success_timestamp_seconds",
            "When the last database backup / file copy finished (absent: never, or no access)",
            labels=["what"],
        )
        try:
            status = read_status(self.config.backup_dir)
        except (OSError, ValueError):
            status = {}
        for what, key in (("database", "backup"), ("files", "files")):
            if key in status:
                last.add_metric([what], datetime.fromisoformat(status[key]["at"]).timestamp())
        yield last

    def _disks(self) -> Iterator[Metric]:
        free = GaugeMetricFamily(
            "rangersync_disk_free_bytes", "Free space where the files live", labels=["path"]
        )
        size = GaugeMetricFamily(
            "rangersync_disk_size_bytes", "Size of the disk the files live on", labels=["path"]
        )
        for name, path in (("evidence", self.config.evidence_dir), ("var", self.config.var_dir)):
            if path.exists():
                usage = shutil.disk_usage(path)
                free.add_metric([name], usage.free)
                size.add_metric([name], usage.total)
        yield free
        yield size


def exposition(config: Config, sessions: sessionmaker) -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        processes = CollectorRegistry()
        multiprocess.MultiProcessCollector(processes)
    else:
        processes = REGISTRY
    state = CollectorRegistry(auto_describe=False)
    state.register(StateCollector(config, sessions))
    return generate_latest(processes) + generate_latest(state)


@blp.get("/metrics")
def metrics() -> Response:
    state = current_app.extensions["rangersync"]
    started = time.perf_counter()
    body = exposition(state.config, state.session_factory)
    log.debug("metrics: scraped in %.3f s", time.perf_counter() - started)
    return Response(body, content_type=CONTENT_TYPE_LATEST)
