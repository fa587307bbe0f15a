"""Delivering one notification: claim it, send it, record the outcome.

The claim is a committed UPDATE that moves the row to `sending` with a lease: only one worker
holds it, and the lease outlives any attempt (twice the send timeout), so a live worker's claim
is never taken over. If that worker dies mid-delivery the job is found stalled (procrastinate's
heartbeats), retried, and re-claims the row once the lease has run out.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import sessionmaker

from server.config import Config
from server.core.metrics import NOTIFICATIONS
from server.notify import adapters
from server.notify.outbox import DELIVER_TASK, QUEUE

log = logging.getLogger(__name__)

_CLAIM = """
UPDATE notifications SET state = 'sending', attempts = attempts + 1,
       lease_until = now() + make_interval(secs => :lease)
WHERE id = :id AND (state = 'pending' OR (state = 'sending' AND lease_until < now()))
RETURNING id, channel, target, subject, body, attempts
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
SELECT :queue, CAST(:task AS varchar), jsonb_build_object('notification_id', n.id)
FROM notifications n
WHERE (n.state = 'pending' OR (n.state = 'sending' AND n.lease_until < now()))
  AND n.created_at < now() - interval '1 minute'
  AND NOT EXISTS (SELECT 1 FROM procrastinate.procrastinate_jobs j
                  WHERE j.task_name = :task AND j.args ->> 'notification_id' = n.id::text
                    AND j.status IN ('todo', 'doing'))
"""


def requeue_orphans(factory: sessionmaker) -> int:
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


def _webhook_payload(row) -> dict:
    """A webhook's body is the JSON document its sender composed; the id is added here."""
    try:
        document = json.loads(row["body"])
    except ValueError:
        document = None
    if not isinstance(document, dict):
        raise adapters.DeliveryError("the notification holds no JSON document", permanent=True)
    return {"notification_id": str(row["id"]), **document}


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
            adapters.send_webhook(config, row["target"], _webhook_payload(row), key)
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
