"""`rangersync worker`: the composition of background work. A procrastinate worker that delivers
the outbox's notifications (server.notify), runs the safety rules on a schedule (server.safety),
makes large exports (server.exports), purges abandoned evidence uploads hourly (server.evidence),
expired exports and spent rate-limit windows, and puts back jobs of workers that died; and the
deriver (server.sync.derived), a thread woken by each push's commit, which also runs in every
`rangersync serve` process. Which tasks exist is decided here, not by the capabilities they call.

Several workers may run at once: procrastinate hands each job to one worker (SELECT … FOR UPDATE
SKIP LOCKED), periodic tasks are deferred once per tick however many workers run, and the
notification's own claim (server.notify.delivery) guards the send itself.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable

import procrastinate
import psycopg
from sqlalchemy.engine import Engine

from server.config import Config
from server.core.db import make_session_factory
from server.core.metrics import job_run
from server.core.ratelimit import PostgresStorage
from server.evidence.service import purge_expired
from server.evidence.storage import FileStore
from server.exports import jobs as exports
from server.notify import delivery
from server.notify.outbox import DELIVER_TASK, QUEUE
from server.safety import rules
from server.sync import derived

log = logging.getLogger(__name__)
HEARTBEAT_S = 2.0
STALLED_AFTER_S = 10.0  # no heartbeat for this long: the worker is dead, its jobs go back


DERIVE_POLL_S = 5.0  # a missed NOTIFY (a restart, a dropped connection) waits at most this
# After a wake-up, let the pushes of this second join the batch: in a storm the deriver runs at
# most about once a second, on many patrols at once, and leaves the CPU to the pushes between.
DERIVE_GATHER_S = 1.0
# While pushes are at work in its process the deriver waits, but never longer than this: in a
# storm the pushes get the CPU and the figures come this late at most (then in one big batch).
DERIVE_YIELD_MAX_S = 10.0


class Deriver(threading.Thread):
    """Derives what waits in derived_backlog whenever a push's commit says so (LISTEN), and every
    DERIVE_POLL_S anyway. Any number may run, in any processes: each batch is claimed with
    SKIP LOCKED. A failure is logged and the batch retried at the next wake-up."""

    def __init__(self, engine: Engine, url: str, busy: Callable[[], bool] = lambda: False) -> None:
        super().__init__(name="rangersync-deriver", daemon=True)
        self.factory = make_session_factory(engine)
        self.url = connector_url(url)
        self.busy = busy  # pushes at work beside it (the push gate of its process)
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                with psycopg.connect(self.url, autocommit=True) as listener:
                    listener.execute(f"LISTEN {derived.CHANNEL}")
                    while not self.stopping.is_set():
                        self._derive()
                        # wake on the next commit's NOTIFY (drain the others), or poll
                        for _ in listener.notifies(timeout=DERIVE_POLL_S, stop_after=1):
                            self.stopping.wait(DERIVE_GATHER_S)
            except Exception:
                log.exception("the deriver lost its connection; retrying")
                self.stopping.wait(DERIVE_POLL_S)

    def _derive(self) -> None:
        waited = 0.0
        while self.busy() and waited < DERIVE_YIELD_MAX_S and not self.stopping.is_set():
            self.stopping.wait(0.2)
            waited += 0.2
        try:
            with job_run("derive_waiting"), self.factory() as session:
                derived.derive_all_waiting(session)
        except Exception:
            log.exception("deriving waiting patrols failed; retried at the next wake-up")

    def stop(self) -> None:
        self.stopping.set()


def connector_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def build(config: Config, engine: Engine, url: str) -> procrastinate.App:
    """The procrastinate app with our tasks, bound to this process's engine."""
    factory = make_session_factory(engine)
    connector = procrastinate.PsycopgConnector(
        conninfo=connector_url(url),
        kwargs={"options": "-c search_path=procrastinate,public -c timezone=UTC"},
        min_size=1,
        max_size=4,
    )
    app = procrastinate.App(connector=connector)
    retry = procrastinate.RetryStrategy(
        max_attempts=config.notify_max_attempts,
        exponential_wait=2,
        retry_exceptions={delivery.RetryLater},
    )

    @app.task(name=DELIVER_TASK, queue=QUEUE, retry=retry, pass_context=False)
    def deliver_notification(notification_id: str, request_id: str | None = None) -> str:
        with job_run(DELIVER_TASK, request_id):
            outcome = delivery.deliver(factory, config, uuid.UUID(notification_id))
            if outcome.state == "pending":
                raise delivery.RetryLater(outcome.error)
            return outcome.state

    @app.periodic(cron="* * * * * */20")
    @app.task(name="evaluate_safety_rules", queue="safety", pass_context=False)
    def evaluate_safety_rules(timestamp: int) -> int:
        with job_run("evaluate_safety_rules"), factory() as session:
            fired = rules.evaluate(session)
            session.commit()
        if fired.alerts or fired.escalated:
            log.info(
                "rules raised %d alerts, escalated %d", len(fired.alerts), len(fired.escalated)
            )
        return len(fired.alerts)

    @app.periodic(cron="* * * * * */5")
    @app.task(name="recover_stalled_jobs", queue="safety", pass_context=False)
    async def recover_stalled_jobs(timestamp: int) -> int:
        stalled = list(
            await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=STALLED_AFTER_S)
        )
        for job in stalled:
            log.warning(
                "job %s (%s) of a dead worker goes back to the queue", job.id, job.task_name
            )
            await app.job_manager.retry_job(job)
        await app.job_manager.prune_stalled_workers(STALLED_AFTER_S * 3)
        return len(stalled)

    @app.periodic(cron="* * * * * */30")
    @app.task(name="requeue_orphaned_notifications", queue="safety", pass_context=False)
    def requeue_orphaned_notifications(timestamp: int) -> int:
        return delivery.requeue_orphans(factory)

    @app.periodic(cron="17 * * * *")
    @app.task(name="purge_expired_uploads", queue="safety", pass_context=False)
    def purge_expired_uploads(timestamp: int) -> int:
        """Abandoned evidence uploads past UPLOAD_TTL_HOURS: partial bytes deleted, the
        attachment expects an upload again (as `rangersync evidence purge-expired`)."""
        with factory() as session:
            purged = purge_expired(session, FileStore(config.evidence_dir))
            session.commit()
        return purged

    @app.task(name=exports.TASK, queue=exports.QUEUE, pass_context=False)
    def export_area(area_id: str, job_id: str) -> str:
        """A large export (server.exports.jobs), with its progress in its row."""
        with job_run(exports.TASK):
            return exports.run(
                factory,
                config.export_dir,
                config.export_ttl_hours,
                uuid.UUID(area_id),
                uuid.UUID(job_id),
            )

    @app.periodic(cron="41 * * * *")
    @app.task(name="purge_expired_exports", queue="safety", pass_context=False)
    def purge_expired_exports(timestamp: int) -> int:
        """Export files past EXPORT_TTL_HOURS deleted; their jobs say `expired`."""
        return exports.purge_expired(factory, config.export_dir)

    @app.periodic(cron="*/10 * * * *")
    @app.task(name="purge_rate_limits", queue="safety", pass_context=False)
    def purge_rate_limits(timestamp: int) -> int:
        """Rate-limit entries past their window, of keys and sources not heard from since."""
        return PostgresStorage(engine).purge_expired()

    # registered on `app`; the names are not needed here
    del deliver_notification, evaluate_safety_rules, recover_stalled_jobs
    del requeue_orphaned_notifications, purge_expired_uploads, purge_rate_limits
    del export_area, purge_expired_exports
    return app


def run(config: Config, engine: Engine, url: str, concurrency: int = 4) -> None:
    app = build(config, engine, url)
    Deriver(engine, url).start()
    with app.open():
        app.run_worker(
            queues=[QUEUE, "safety", exports.QUEUE],
            concurrency=concurrency,
            update_heartbeat_interval=HEARTBEAT_S,
            stalled_worker_timeout=STALLED_AFTER_S,
            delete_jobs="successful",
        )
