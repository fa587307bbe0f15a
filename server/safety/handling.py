"""The duty officers' side of an SOS or a critical alert: its card (who, where, since when, which
patrol, whom to call) and its handling (acknowledged, a responder assigned, notes, resolved).
Every step is stored, audited and told to the live feed, so two officers on duty see each other's
steps as they happen."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from schemas.alerts import AlertCardOut
from server.core import audit
from server.core.db import utcnow
from server.core.errors import Conflict
from server.core.policy import Action, Actor, authorize, load_in_area
from server.safety import events
from server.safety.alerts import alert_view, event_payload
from server.safety.models import AlertHandlingStep, SafetyAlert

# The ranger behind an alert: the one who sent the SOS, or the leader of the patrol an automatic
# rule raised it for; their device's last known position and the patrol they are on.
_WHO_AND_WHERE = """
SELECT a.id AS alert_id, s.text AS sos_text, s.channel AS sos_channel,
       d.id AS device_id, d.name AS device_name,
       u.username, u.display_name, u.phone,
       ST_AsGeoJSON(p.geom, 7)::json AS last_position, p.fixed_at AS last_fix_at,
       COALESCE(pt.id, sp.id) AS patrol_id,
       COALESCE(pt.planned_end, sp.planned_end) AS patrol_planned_end
FROM safety_alerts a
LEFT JOIN sos_calls s ON a.kind = 'sos' AND s.id = a.subject_id
LEFT JOIN patrols pt ON a.kind <> 'sos' AND pt.id = a.subject_id AND pt.area_id = a.area_id
LEFT JOIN LATERAL (
    SELECT id, planned_end FROM patrols
    WHERE device_id = s.device_id AND area_id = a.area_id AND ended_at IS NULL
    ORDER BY started_at DESC LIMIT 1
) sp ON true
LEFT JOIN devices d ON d.id = COALESCE(s.device_id, pt.device_id)
LEFT JOIN users u ON u.id = COALESCE(s.user_id, pt.leader_id, d.user_id)
LEFT JOIN device_positions p ON p.device_id = d.id
WHERE a.id = ANY(:ids)
"""

_STEPS = """
SELECT h.alert_id, h.id, h.step, h.responder, h.note, h.at,
       COALESCE(u.display_name, 'system') AS by_name
FROM alert_handling_steps h LEFT JOIN users u ON u.id = h.by_user_id
WHERE h.alert_id = ANY(:ids)
ORDER BY h.at, h.id
"""

_ACTIVE_URGENT = """
SELECT id FROM safety_alerts
WHERE area_id = :area AND cancelled_at IS NULL AND (valid_until IS NULL OR valid_until > now())
  AND (kind = 'sos' OR severity = 'critical')
ORDER BY (kind = 'sos') DESC, created_at DESC
LIMIT :limit
"""

MAX_URGENT = 50  # cards on a page; beyond it the alerts page lists the rest


def _state(steps: list[dict]) -> dict[str, Any]:
    """Where the handling stands, from its steps in order."""
    kinds = {s["step"] for s in steps}
    ack = next((s for s in steps if s["step"] == "acknowledge"), None)
    assigned = [s for s in steps if s["step"] == "assign"]
    if "resolve" in kinds:
        state = "resolved"
    elif assigned:
        state = "assigned"
    elif ack:
        state = "acknowledged"
    else:
        state = "open"
    return {
        "state": state,
        "handled_by": ack["by_name"] if ack else None,
        "responder": assigned[-1]["responder"] if assigned else None,
    }


def _cards(session: Session, alerts: list[SafetyAlert]) -> list[dict]:
    ids = [a.id for a in alerts]
    who = {
        r["alert_id"]: dict(r)
        for r in session.execute(text(_WHO_AND_WHERE), {"ids": ids}).mappings()
    }
    steps: dict[uuid.UUID, list[dict]] = {i: [] for i in ids}
    for row in session.execute(text(_STEPS), {"ids": ids}).mappings():
        steps[row["alert_id"]].append(dict(row))
    cards = []
    for alert in alerts:
        ranger = who.get(alert.id, {})
        cards.append(
            {
                "alert": alert_view(session, alert),
                "ranger": ranger if ranger.get("username") else None,
                "steps": steps[alert.id],
                **_state(steps[alert.id]),
            }
        )
    return cards


def card(session: Session, actor: Actor, alert_id: uuid.UUID) -> dict:
    """One alert's card: the alert, the ranger behind it and its handling so far."""
    alert = load_in_area(session, actor, Action.ALERT_ISSUE, SafetyAlert, alert_id, "alert")
    return _cards(session, [alert])[0]


def urgent_cards(session: Session, actor: Actor, area_id: uuid.UUID) -> list[dict]:
    """The area's active SOS and critical alerts, SOS first, newest first: what every dashboard
    page shows in its banner."""
    authorize(actor, Action.ALERT_ISSUE, area_id, "area")
    ids = session.execute(text(_ACTIVE_URGENT), {"area": area_id, "limit": MAX_URGENT}).scalars()
    order = list(ids)
    if not order:
        return []
    alerts = {
        a.id: a for a in session.scalars(select(SafetyAlert).where(SafetyAlert.id.in_(order)))
    }
    return _cards(session, [alerts[i] for i in order])


def add_step(
    session: Session,
    actor: Actor,
    alert_id: uuid.UUID,
    step: str,
    *,
    responder: str | None = None,
    note: str | None = None,
) -> dict:
    """Record one handling step (`step` and its fields as schemas.alerts.HandlingStepIn loads
    them). One officer acknowledges; a responder may be reassigned; notes are free; resolving
    ends the alert (devices drop it) and closes the handling. The alert's row lock makes two
    officers' steps follow one another."""
    alert = load_in_area(
        session, actor, Action.ALERT_ISSUE, SafetyAlert, alert_id, "alert", lock=True
    )
    events.lock_area(session, alert.area_id)
    so_far = _state(
        [dict(r) for r in session.execute(text(_STEPS), {"ids": [alert_id]}).mappings()]
    )
    if so_far["state"] == "resolved":
        raise Conflict("this alert is resolved already", extra={"alert_id": str(alert_id)})
    if step == "acknowledge" and so_far["handled_by"] is not None:
        raise Conflict(
            f"{so_far['handled_by']} is handling this alert already",
            extra={"handled_by": so_far["handled_by"]},
        )
    session.add(
        AlertHandlingStep(
            area_id=alert.area_id,
            alert_id=alert_id,
            step=step,
            by_user_id=actor.user_id,
            responder=responder,
            note=note,
        )
    )
    if step == "resolve" and alert.cancelled_at is None:
        alert.cancelled_at = utcnow()
    session.flush()
    audit.record(
        session,
        actor,
        f"alert.{step}",
        "alert",
        alert_id,
        area_id=alert.area_id,
        **({"responder": responder} if responder else {}),
        **({"note": note} if note else {}),
    )
    session.refresh(alert)
    result = _cards(session, [alert])[0]
    if step == "resolve":
        events.record(
            session, alert.area_id, "cancelled", alert_id, event_payload(result["alert"]), True
        )
    events.record(session, alert.area_id, "handling", alert_id, AlertCardOut().dump(result), True)
    return result
