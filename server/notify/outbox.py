"""Putting notifications in the outbox: rows and their delivery jobs in the caller's transaction.

The job is a row in procrastinate's table, inserted by the same transaction as the notification,
so a notification exists if and only if its delivery job does; nothing is deferred "after commit"
and lost when the process dies in between.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

QUEUE = "notifications"
DELIVER_TASK = "deliver_notification"

_ENQUEUE = """
WITH targets AS (
    SELECT 'email' AS channel, unnest(CAST(:emails AS text[])) AS target
    UNION ALL SELECT 'sms', unnest(CAST(:sms AS text[]))
    UNION ALL SELECT 'webhook', unnest(CAST(:webhooks AS text[]))
), new AS (
    INSERT INTO notifications (id, area_id, alert_id, purpose, channel, target, subject, body,
                               state, attempts)
    SELECT gen_random_uuid(), :area, :subject_id, :purpose, t.channel, t.target, :subject,
           CASE t.channel WHEN 'sms' THEN :short WHEN 'webhook' THEN :document ELSE :body END,
           'pending', 0
    FROM targets t
    ON CONFLICT DO NOTHING
    RETURNING id
)
INSERT INTO procrastinate.procrastinate_jobs (queue_name, task_name, args)
SELECT :queue, :task, jsonb_build_object('notification_id', id) FROM new
RETURNING (args ->> 'notification_id')::uuid
"""


@dataclass(frozen=True)
class Targets:
    """Whom to reach: email addresses, phone numbers (SMS gateway), webhook URLs."""

    emails: Sequence[str] = ()
    sms: Sequence[str] = ()
    webhooks: Sequence[str] = ()


@dataclass(frozen=True)
class Message:
    """What to send, in each channel's form. A webhook receives `document` as JSON, with the
    notification's id added as `notification_id`."""

    subject: str
    body: str
    short: str  # one SMS
    document: dict[str, Any] = field(default_factory=dict)


def _one_sms(text: str) -> str:
    """An SMS notification is one message: a longer text is cut, visibly ("...")."""
    return text if len(text) <= 160 else text[:157] + "..."


def enqueue(
    session: Session,
    area_id: uuid.UUID,
    subject_id: uuid.UUID,
    purpose: str,
    message: Message,
    targets: Targets,
) -> list[uuid.UUID]:
    """One notification per target (once per subject, purpose and target, however often asked).

    `subject_id` is what the message is about (kept in the `alert_id` column, named for the
    first thing that sent notifications)."""
    return list(
        session.execute(
            text(_ENQUEUE),
            {
                "area": area_id,
                "subject_id": subject_id,
                "purpose": purpose,
                "subject": message.subject,
                "body": message.body,
                "short": _one_sms(message.short),
                "document": json.dumps(message.document, default=_jsonable),
                "emails": list(targets.emails),
                "sms": list(targets.sms),
                "webhooks": list(targets.webhooks),
                "queue": QUEUE,
                "task": DELIVER_TASK,
            },
        ).scalars()
    )


def _jsonable(value: Any) -> str:
    if isinstance(value, uuid.UUID):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")
