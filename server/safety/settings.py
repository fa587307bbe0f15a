"""Per-area safety settings: the rules' thresholds and who managers are reached at."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from server.core import audit
from server.core.db import utcnow
from server.core.policy import Action, Actor, authorize
from server.notify import outbox
from server.safety.models import SafetySettings

FIELDS = (
    "overdue_grace_min",
    "no_movement_min",
    "no_movement_radius_m",
    "hostile_radius_km",
    "hostile_max_age_min",
    "nearby_radius_km",
    "escalate_after_min",
    "notify_emails",
    "notify_sms",
    "notify_webhooks",
)


def ensure(session: Session, area_id: uuid.UUID) -> SafetySettings:
    """The area's settings, made with the defaults on first use."""
    session.execute(insert(SafetySettings).values(area_id=area_id).on_conflict_do_nothing())
    return session.scalar(select(SafetySettings).where(SafetySettings.area_id == area_id))


def get_settings(session: Session, actor: Actor, area_id: uuid.UUID) -> SafetySettings:
    authorize(actor, Action.ALERT_ISSUE, area_id, "area")
    return ensure(session, area_id)


def change_settings(
    session: Session, actor: Actor, area_id: uuid.UUID, **changes
) -> SafetySettings:
    authorize(actor, Action.ALERT_ISSUE, area_id, "area")
    settings = ensure(session, area_id)
    for name, value in changes.items():
        if name in FIELDS:
            setattr(settings, name, value)
    settings.updated_at = utcnow()
    session.flush()
    audit.record(
        session, actor, "safety.settings", "area", area_id, area_id=area_id, changed=sorted(changes)
    )
    return settings


def notify_targets(session: Session, area_id: uuid.UUID) -> outbox.Targets:
    """Who managers are reached at in the area (nobody before its settings exist)."""
    row = session.execute(
        select(
            SafetySettings.notify_emails, SafetySettings.notify_sms, SafetySettings.notify_webhooks
        ).where(SafetySettings.area_id == area_id)
    ).one_or_none()
    return outbox.Targets(*row) if row is not None else outbox.Targets()
