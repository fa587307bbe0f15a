"""Putting notifications in the outbox: rows and their delivery jobs in the caller's transaction.

The job is a row in procrastinate's table, inserted by the same transaction as the notification,
so a notification exists if and only if its delivery job does; nothing is deferred "after commit"
and lost when the process dies in between.
"""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.orm import Session

from server.core import logs

QUEUE = "notifications"
DELIVER_TASK = "deliver_notification"

_ENQUEUE = """
WITH s AS (
    SELECT notify_emails, notify_sms, notify_webhooks FROM safety_settings WHERE area_id = :area
), targets AS (
    SELECT 'email' AS channel, unnest(notify_emails) AS target FROM s
    UNION ALL SELECT 'sms', unnest(notify_sms) FROM s
    UNION ALL SELECT 'webhook', unnest(notify_webhooks) FROM s
), new AS (
    INSERT INTO notifications (id, area_id, alert_id, purpose, channel, target, subject, body,
                               state, attempts)
    SELECT gen_random_uuid(), :area, :alert, :purpose, t.channel, t.target, :subject,
           CASE WHEN t.channel = 'sms' THEN :short ELSE :body END, 'pending', 0
    FROM targets t
    ON CONFLICT DO NOTHING
    RETURNING id
)
INSERT INTO procrastinate.procrastinate_jobs (queue_name, task_name, args)
SELECT :queue, :task,
       jsonb_build_object('notification_id', id, 'request_id', CAST(:request_id AS text))
FROM new
RETURNING (args ->> 'notification_id')::uuid
"""


def _one_sms(text: str) -> str:
    """An SMS notification is one message: a longer text is cut, visibly ("...")."""
    return text if len(text) <= 160 else text[:157] + "..."


def enqueue(
    session: Session,
    area_id: uuid.UUID,
    alert_id: uuid.UUID,
    purpose: str,
    subject: str,
    body: str,
    short: str,
) -> list[uuid.UUID]:
    """One notification per target configured for the area (once per alert and purpose)."""
    return list(
        session.execute(
            text(_ENQUEUE),
            {
                "area": area_id,
                "alert": alert_id,
                "purpose": purpose,
                "subject": subject,
                "body": body,
                "short": _one_sms(short),
                "queue": QUEUE,
                "task": DELIVER_TASK,
                "request_id": logs.request_id.get(),  # its log lines name the request behind it
            },
        ).scalars()
    )
