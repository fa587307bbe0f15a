"""What managers see of the outbox: the notifications of an alert and their delivery state."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.core.errors import NotFound
from server.core.policy import Action, Actor, authorize
from server.notify.models import Notification
from server.safety.models import SafetyAlert


def list_for_alert(session: Session, actor: Actor, alert_id: uuid.UUID) -> list[Notification]:
    alert = session.get(SafetyAlert, alert_id)
    if alert is None:
        raise NotFound("no such alert")
    authorize(actor, Action.ALERT_ISSUE, alert.area_id, "alert")
    query = (
        select(Notification)
        .where(Notification.alert_id == alert_id)
        .order_by(Notification.created_at, Notification.channel, Notification.target)
    )
    return list(session.scalars(query))
