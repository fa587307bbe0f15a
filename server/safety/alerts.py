"""What safety alerts do: raise one (by a manager, an SOS or a rule), list them with who has
seen them, take a device's acknowledgement, cancel one."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from geoalchemy2.shape import from_shape, to_shape
from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from schemas.alerts import AlertOut
from server.core import audit
from server.core.db import utcnow
from server.core.errors import Conflict, Forbidden, Invalid, NotFound
from server.core.policy import Action, Actor, authorize, load_in_area
from server.notify import outbox
from server.notify import service as notifications
from server.safety import audience, events, settings
from server.safety.models import AlertAck, SafetyAlert


@dataclass(frozen=True)
class AlertView:
    id: uuid.UUID
    area_id: uuid.UUID
    kind: str
    source: str
    severity: str
    message: str
    geometry: Any
    radius_m: float | None
    audience: dict
    valid_from: datetime
    valid_until: datetime | None
    created_at: datetime
    cancelled_at: datetime | None
    escalated_at: datetime | None
    subject_id: uuid.UUID | None
    recipients: int = 0
    acknowledged: int = 0
    seen: list | None = None
    not_seen: list | None = None


def _counts(session: Session, alert_id: uuid.UUID) -> tuple[int, int]:
    row = session.execute(
        text(f"SELECT c.* FROM safety_alerts a, LATERAL ({audience.COUNTS}) c WHERE a.id = :a"),  # noqa: S608
        {"a": alert_id},
    ).one()
    return row.recipients, row.acknowledged


def alert_view(session: Session, alert: SafetyAlert, with_counts: bool = True) -> AlertView:
    recipients, acknowledged = _counts(session, alert.id) if with_counts else (0, 0)
    return AlertView(
        alert.id,
        alert.area_id,
        alert.kind,
        alert.source,
        alert.severity,
        alert.message,
        to_shape(alert.geom) if alert.geom is not None else None,
        alert.radius_m,
        alert.audience,
        alert.valid_from,
        alert.valid_until,
        alert.created_at,
        alert.cancelled_at,
        alert.escalated_at,
        alert.subject_id,
        recipients,
        acknowledged,
    )


def event_payload(view: AlertView) -> dict[str, Any]:
    return AlertOut().dump(view)


def _clean_audience(raw: dict | None) -> dict:
    """Keep only what narrows the audience, as strings, so the SQL can read it."""
    raw = raw or {}
    cleaned: dict[str, Any] = {}
    for key in ("teams", "zones"):
        if raw.get(key):
            cleaned[key] = sorted({str(v) for v in raw[key]})
    if raw.get("geofence"):
        cleaned["geofence"] = True
    return cleaned


def raise_alert(
    session: Session,
    area_id: uuid.UUID,
    *,
    severity: str,
    message: str,
    kind: str = "manual",
    source: str = "manager",
    geometry=None,
    radius_m: float | None = None,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
    audience_: dict | None = None,
    dedupe_key: str | None = None,
    subject_id: uuid.UUID | None = None,
    created_by: uuid.UUID | None = None,
    notify: bool = True,
    alert_id: uuid.UUID | None = None,
) -> AlertView | None:
    """Store an alert, match devices by position, tell the live feed and queue the managers'
    notifications, all in the caller's transaction. With a `dedupe_key` (one per event of an
    automatic rule) a second call for the same event does nothing and returns None."""
    events.lock_area(session, area_id)  # first: see server.safety.events.lock_area
    now = utcnow()
    _check_window(valid_from, valid_until, now)
    values = dict(
        id=alert_id or uuid.uuid4(),
        area_id=area_id,
        severity=severity,
        message=message,
        kind=kind,
        source=source,
        geom=from_shape(geometry, srid=4326) if geometry is not None else None,
        radius_m=radius_m,
        valid_from=valid_from or now,
        valid_until=valid_until,
        audience=_clean_audience(audience_),
        dedupe_key=dedupe_key,
        subject_id=subject_id,
        created_by=created_by,
    )
    alert_id = session.execute(
        insert(SafetyAlert)
        .values(**values)
        .on_conflict_do_nothing(
            index_elements=["area_id", "dedupe_key"], index_where=text("dedupe_key IS NOT NULL")
        )
        .returning(SafetyAlert.id)
    ).scalar_one_or_none()
    if alert_id is None:
        return None
    audience.match_positions(session, area_id, alert_id=alert_id)
    alert = session.get(SafetyAlert, alert_id)
    view = alert_view(session, alert)
    if notify:
        notify_managers(session, view, "raised")
    events.record(session, area_id, "alert", alert_id, event_payload(view), locked=True)
    return view


def describe(view: AlertView, escalated: bool = False) -> tuple[str, str, str]:
    """Subject, body and a one-SMS text for a notification about the alert."""
    where = ""
    if view.geometry is not None:
        c = view.geometry.centroid
        where = f" at {c.y:.5f},{c.x:.5f}"
    prefix = "ESCALATED: " if escalated else ""
    subject = f"{prefix}[{view.severity.upper()}] {view.kind.replace('_', ' ')}{where}"
    body = (
        f"{view.message}\n\nseverity: {view.severity}\nkind: {view.kind}\nraised: "
        f"{view.created_at:%Y-%m-%d %H:%M} UTC\nalert: {view.id}\n"
        f"devices acknowledged: {view.acknowledged} of {view.recipients}\n"
    )
    short = f"{prefix}{view.severity.upper()} {view.kind}{where}: {view.message}"
    return subject, body, short


_WEBHOOK_ALERT = """
SELECT id AS alert_id, area_id, kind, severity, message, ST_AsGeoJSON(geom)::json AS geometry,
       radius_m, created_at
FROM safety_alerts WHERE id = :id
"""


def notify_managers(session: Session, view: AlertView, purpose: str) -> list[uuid.UUID]:
    """Queue the alert's notifications ("raised" or "escalated") to the targets in the area's
    safety settings, in the caller's transaction; once per alert and purpose."""
    subject, body, short = describe(view, escalated=purpose == "escalated")
    alert = session.execute(text(_WEBHOOK_ALERT), {"id": view.id}).mappings().one()
    document = {"purpose": purpose, "subject": subject, "alert": dict(alert)}
    message = outbox.Message(subject, body, short, document)
    return outbox.enqueue(
        session,
        view.area_id,
        view.id,
        purpose,
        message,
        settings.notify_targets(session, view.area_id),
    )


def _check_window(valid_from: datetime | None, valid_until: datetime | None, now: datetime):
    """An alert is valid from valid_from (now when left out) until valid_until, which must come
    after it: an empty window would be an alert nobody is ever shown."""
    if valid_until is not None and valid_until <= (valid_from or now):
        after = "valid_from" if valid_from else "now (valid_from is left out)"
        raise Invalid(
            f"valid_until must be after {after}",
            errors={"/valid_until": [f"must be after {after}"]},
        )


def list_notifications(session: Session, actor: Actor, alert_id: uuid.UUID) -> list:
    """The alert's email, SMS and webhook notifications and how their delivery went."""
    load_in_area(session, actor, Action.ALERT_ISSUE, SafetyAlert, alert_id, "alert")
    return notifications.list_for(session, alert_id)


def issue_alert(session: Session, actor: Actor, area_id: uuid.UUID, **fields) -> AlertView:
    """A manager's alert (`fields` as schemas.alerts.AlertIn loads them)."""
    authorize(actor, Action.ALERT_ISSUE, area_id, "area")
    view = raise_alert(
        session,
        area_id,
        severity=fields["severity"],
        message=fields["message"],
        geometry=fields.get("geometry"),
        radius_m=fields.get("radius_m"),
        valid_from=fields.get("valid_from"),
        valid_until=fields.get("valid_until"),
        audience_=fields.get("audience"),
        created_by=actor.user_id,
        notify=False,
    )
    audit.record(
        session, actor, "alert.issue", "alert", view.id, area_id=area_id, severity=view.severity
    )
    return view


def find_alert(session: Session, alert_id: uuid.UUID, lock: bool = False) -> SafetyAlert:
    query = select(SafetyAlert).where(SafetyAlert.id == alert_id)
    alert = session.scalar(query.with_for_update() if lock else query)
    if alert is None:
        raise NotFound("no such alert")
    return alert


def list_alerts(
    session: Session,
    actor: Actor,
    area_id: uuid.UUID,
    active: bool = True,
    limit: int = 500,
    *,
    words: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    oldest_first: bool = False,
    ended: bool = False,
    offset: int = 0,
) -> list[AlertView]:
    """The area's alerts (only the active ones with `active`), newest first unless
    `oldest_first`; only the cancelled or expired ones with `ended`; `words` found in the message
    or kind, raised between `since` and `until`."""
    authorize(actor, Action.ALERT_ISSUE, area_id, "area")
    query = select(SafetyAlert).where(SafetyAlert.area_id == area_id)
    if active:
        query = query.where(
            SafetyAlert.cancelled_at.is_(None),
            (SafetyAlert.valid_until.is_(None)) | (SafetyAlert.valid_until > utcnow()),
        )
    if ended:
        query = query.where(
            SafetyAlert.cancelled_at.is_not(None)
            | (SafetyAlert.valid_until.is_not(None) & (SafetyAlert.valid_until <= utcnow()))
        )
    if words and words.strip():
        pattern = "%" + words.strip().replace("\\", "\\\\").replace("%", "\\%") + "%"
        pattern = pattern.replace("_", "\\_")
        query = query.where(
            SafetyAlert.message.ilike(pattern, escape="\\")
            | SafetyAlert.kind.ilike(pattern, escape="\\")
        )
    if since is not None:
        query = query.where(SafetyAlert.created_at >= since)
    if until is not None:
        query = query.where(SafetyAlert.created_at < until)
    order = SafetyAlert.created_at.asc() if oldest_first else SafetyAlert.created_at.desc()
    query = query.order_by(order, SafetyAlert.id).limit(limit).offset(offset)
    return [alert_view(session, alert) for alert in session.scalars(query)]


def get_alert(session: Session, actor: Actor, alert_id: uuid.UUID) -> AlertView:
    """One alert with the devices it concerns, split into who has and has not seen it."""
    alert = load_in_area(session, actor, Action.ALERT_ISSUE, SafetyAlert, alert_id, "alert")
    rows = session.execute(text(audience.RECIPIENTS), {"alert": alert_id}).mappings().all()
    seen = [dict(r) for r in rows if r["acknowledged_at"] is not None]
    not_seen = [dict(r) for r in rows if r["acknowledged_at"] is None]
    view = alert_view(session, alert, with_counts=False)
    return AlertView(
        **{
            **view.__dict__,
            "recipients": len(rows),
            "acknowledged": len(seen),
            "seen": seen,
            "not_seen": not_seen,
        }
    )


def acknowledge(
    session: Session, actor: Actor, alert_id: uuid.UUID, acknowledged_at: datetime | None = None
) -> dict:
    """A device says the alert reached its ranger. Idempotent: `first` tells the first time."""
    if actor.kind != "device":
        raise Forbidden("only an enrolled device acknowledges an alert")
    alert = load_in_area(session, actor, Action.ALERT_VIEW, SafetyAlert, alert_id, "alert")
    concerned = audience.concerns("d.id", "d.user_id")
    device = session.execute(
        text(
            f"SELECT d.id FROM safety_alerts a JOIN devices d ON d.id = :device"  # noqa: S608
            f" WHERE a.id = :alert AND d.area_id = a.area_id AND {concerned}"
        ),
        {"alert": alert_id, "device": actor.id},
    ).scalar_one_or_none()
    if device is None:
        raise NotFound("no such alert")
    stored = session.execute(
        insert(AlertAck)
        .values(
            alert_id=alert_id,
            device_id=actor.id,
            area_id=alert.area_id,
            acknowledged_at_device=acknowledged_at,
        )
        .on_conflict_do_nothing()
        .returning(AlertAck.acknowledged_at)
    ).scalar_one_or_none()
    first = stored is not None
    if not first:
        stored = session.scalar(
            select(AlertAck.acknowledged_at).where(
                AlertAck.alert_id == alert_id, AlertAck.device_id == actor.id
            )
        )
    else:
        events.record(
            session,
            alert.area_id,
            "acknowledged",
            alert_id,
            {
                "alert_id": str(alert_id),
                "device_id": str(actor.id),
                "acknowledged_at": stored.isoformat(),
            },
        )
    return {"alert_id": alert_id, "device_id": actor.id, "acknowledged_at": stored, "first": first}


def cancel(session: Session, actor: Actor, alert_id: uuid.UUID) -> AlertView:
    """Withdraw an alert: devices drop it on their next pull."""
    alert = load_in_area(
        session, actor, Action.ALERT_ISSUE, SafetyAlert, alert_id, "alert", lock=True
    )
    if alert.cancelled_at is not None:
        raise Conflict("the alert is already cancelled")
    alert.cancelled_at = utcnow()
    session.flush()
    audit.record(session, actor, "alert.cancel", "alert", alert.id, area_id=alert.area_id)
    view = alert_view(session, alert)
    events.record(session, alert.area_id, "cancelled", alert.id, event_payload(view))
    return view
