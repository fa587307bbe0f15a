"""Delivering one notification: claim it, send it, record the outcome.

The claim is a committed UPDATE that moves the row to `sending` with a lease: only one worker
holds it, and the lease outlives any attempt (twice the send timeout), so a live worker's claim
is never taken over. If that worker dies mid-delivery the job is found stalled (procrastinate's
heartbeats), retried, and re-claims the row once the lease has run out.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import sessionmaker

from server.config import Config
from server.core.metrics import NOTIFICATIONS
from server.notify import adapters

log = logging.getLogger(__name__)

_CLAIM = """
UPDATE notifications n SET state = 'sending', attempts = attempts + 1,
       lease_until = now() + make_interval(secs => :lease)
FROM safety_alerts a
WHERE n.id = :id AND a.id = n.alert_id
  AND (n.state = 'pending' OR (n.state = 'sending' AND n.lease_until < now()))
RETURNING n.id, n.channel, n.target, n.subject, n.body, n.attempts, n.purpose,
          a.id AS alert_id, a.area_id, a.kind, a.severity, a.message,
          ST_AsGeoJSON(a.geom)::json AS geometry, a.radius_m, a.created_at
"""

_FINISH = """
UPDATE notifications SET state = CAST(:state AS varchar), last_error = :error,
       lease_until = NULL, sent_at = CASE WHEN CAST(:state AS varchar) = 'sent' THEN now() END
WHERE id = :id AND state = 'sending' AND attempts = :attempts
"""


# A notification left without a job (its job failed on an unexpected error, or was deleted by
# hand) gets a new one: the outbox row, not the job, is the truth about what is still owed.
_REQUEUE = """
INSERT INTO procrastinate.procrastinate_jobs (queue_name, task_name, args)
SELECT :queue, :task, jsonb_build_object('notification_id', n.id)
FROM notifications n
WHERE (n.state = 'pending' OR (n.state = 'sending' AND n.lease_until < now()))
  AND n.created_at < now() - interval '1 minute'
  AND NOT EXISTS (SELECT 1 FROM procrastinate.procrastinate_jobs j
                  WHERE j.task_name = :task AND j.args ->> 'notification_id' = n.id::text
                    AND j.status IN ('todo', 'doing'))
"""


def requeue_orphans(factory: sessionmaker) -> int:
    from server.notify.outbox import DELIVER_TASK, QUEUE

    with factory() as session:
        count = session.execute(text(_REQUEUE), {"queue": QUEUE, "task": DELIVER_TASK}).rowcount
        session.commit()
    return count


@dataclass(frozen=True)
class Outcome:
    state: str  # sent, pending (will be retried), failed, skipped (not ours to send)
    error: str | None = None


class RetryLater(Exception):
    """Raised to procrastinate so that it retries the job with its back-off."""


def deliver(factory: sessionmaker, config: Config, notification_id: uuid.UUID) -> Outcome:
    lease = max(2 * config.notify_timeout_s, 5)
    with factory() as session:
        claimed = session.execute(text(_CLAIM), {"id": notification_id, "lease": lease})
        row = claimed.mappings().one_or_none()
        session.commit()
    if row is None:
        return Outcome("skipped")  # sent, given up, or held by a live worker
    key = str(row["id"])
    try:
        if row["channel"] == "email":
            adapters.send_email(config, row["target"], row["subject"], row["body"], key)
        elif row["channel"] == "sms":
            adapters.send_sms(config, row["target"], row["body"], key)
        else:
            payload = {
                "notification_id": key,
                "purpose": row["purpose"],
                "subject": row["subject"],
                "alert": {
                    k: row[k]
                    for k in (
                        "alert_id",
                        "area_id",
                        "kind",
                        "severity",
                        "message",
                        "geometry",
                        "radius_m",
                        "created_at",
                    )
                },
            }
            adapters.send_webhook(config, row["target"], _jsonable(payload), key)
        outcome = Outcome("sent")
    except adapters.DeliveryError as error:
        given_up = error.permanent or row["attempts"] >= config.notify_max_attempts
        outcome = Outcome("failed" if given_up else "pending", str(error))
        log.warning("notification %s attempt %s: %s", key, row["attempts"], error)
    NOTIFICATIONS.labels(row["channel"], outcome.state).inc()
    with factory() as session:
        session.execute(
            text(_FINISH),
            {
                "id": row["id"],
                "state": outcome.state,
                "error": outcome.error,
                "attempts": row["attempts"],
            },
        )
        session.commit()
    return outcome


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, uuid.UUID):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
