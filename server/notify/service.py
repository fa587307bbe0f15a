"""What the outbox holds about one subject (an alert, say): its notifications and their
delivery state. Callers authorize: the subject is theirs, not the outbox's."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.notify.models import Notification


def list_for(session: Session, subject_id: uuid.UUID) -> list[Notification]:
    query = (
        select(Notification)
        .where(Notification.alert_id == subject_id)
        .order_by(Notification.created_at, Notification.channel, Notification.target)
    )
    return list(session.scalars(query))
