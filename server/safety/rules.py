"""The automatic safety rules, evaluated as data arrives (after a device's push commits) and on a
schedule (the worker): overdue patrol, no movement, danger-zone entry, hostile incident near a
patrol; and the escalation of critical alerts nobody acknowledged.

Each rule finds its events with one set-based query and raises one alert per event with a
`dedupe_key` naming the event, unique per area: evaluating again, from any process, at any time,
never raises a second alert for the same event.
"""

# ruff: noqa: S608  (the SQL fragments are constants; values are bound parameters)
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

import shapely.wkb
from geoalchemy2.shape import to_shape
from sqlalchemy import text
from sqlalchemy.orm import Session

from server.safety import audience, events
from server.safety.alerts import (
    AlertView,
    alert_view,
    event_payload,
    find_alert,
    notify_managers,
    raise_alert,
)

log = logging.getLogger(__name__)

_SCOPE = """(CAST(:area AS uuid) IS NULL OR p.area_id = CAST(:area AS uuid))
    AND (CAST(:device AS uuid) IS NULL OR p.device_id = CAST(:device AS uuid))
    AND (CAST(:patrol AS uuid) IS NULL OR p.id = CAST(:patrol AS uuid))"""

ENSURE_SETTINGS = """
INSERT INTO safety_settings (area_id) SELECT id FROM areas
WHERE CAST(:area AS uuid) IS NULL OR id = CAST(:area AS uuid)
ON CONFLICT DO NOTHING
"""

# A device's last known position: the last fix of its most recently started patrol, if newer.
UPDATE_POSITION = """
INSERT INTO device_positions (device_id, area_id, geom, fixed_at, patrol_id)
SELECT p.device_id, p.area_id, tp.geom, tp.recorded_at, p.id
FROM (SELECT * FROM patrols WHERE device_id = :device AND max_seq IS NOT NULL
      ORDER BY started_at DESC LIMIT 1) p
JOIN track_points tp ON tp.patrol_id = p.id AND tp.seq = p.max_seq
                    AND tp.track_month = p.track_month
ON CONFLICT (device_id) DO UPDATE
SET geom = excluded.geom, fixed_at = excluded.fixed_at, patrol_id = excluded.patrol_id,
    updated_at = now()
WHERE excluded.fixed_at > device_positions.fixed_at
RETURNING area_id
"""

OVERDUE = f"""
SELECT p.id, p.area_id, p.planned_end, p.objective, coalesce(u.username, du.username) AS username,
       dp.geom, dp.fixed_at, s.nearby_radius_km
FROM patrols p
JOIN safety_settings s ON s.area_id = p.area_id
LEFT JOIN users u ON u.id = p.leader_id
LEFT JOIN devices d ON d.id = p.device_id
LEFT JOIN users du ON du.id = d.user_id
LEFT JOIN device_positions dp ON dp.device_id = p.device_id
WHERE p.ended_at IS NULL AND p.planned_end IS NOT NULL
  AND p.planned_end + make_interval(mins => s.overdue_grace_min) < now() AND {_SCOPE}
  AND NOT EXISTS (SELECT 1 FROM safety_alerts a WHERE a.area_id = p.area_id
                  AND a.dedupe_key = 'overdue_patrol:' || p.id)
"""

# Stationary since the first fix after the last one farther than the radius from the latest fix
# (or since the first fix); that moment names the episode, so a ranger who moves on and stops
# again is a new event. Cheap first: only the window's fixes are read (by sequence number through
# the primary key, assuming fixes at most two a second), and only a patrol that has not moved in
# the whole window is looked at further back to date its stop.
NO_MOVEMENT = f"""
WITH last AS (
    SELECT p.id AS patrol_id, p.area_id, p.device_id, p.track_month, p.max_seq, tp.geom,
           tp.recorded_at, s.no_movement_min, s.no_movement_radius_m, s.nearby_radius_km
    FROM patrols p
    JOIN safety_settings s ON s.area_id = p.area_id
    JOIN track_points tp ON tp.patrol_id = p.id AND tp.seq = p.max_seq
                        AND tp.track_month = p.track_month
    WHERE p.ended_at IS NULL AND {_SCOPE}
), window_still AS (
    SELECT l.* FROM last l
    WHERE EXISTS (  -- history reaches back past the window
        SELECT 1 FROM track_points t
        WHERE t.patrol_id = l.patrol_id AND t.track_month = l.track_month
          AND t.seq >= l.max_seq - l.no_movement_min * 120
          AND t.recorded_at <= l.recorded_at - make_interval(mins => l.no_movement_min))
      AND NOT EXISTS (  -- and no fix in the window is away from where it is now
        SELECT 1 FROM track_points t
        WHERE t.patrol_id = l.patrol_id AND t.track_month = l.track_month
          AND t.seq >= l.max_seq - l.no_movement_min * 120
          AND t.recorded_at > l.recorded_at - make_interval(mins => l.no_movement_min)
          AND NOT ST_DWithin(t.geom::geography, l.geom::geography, l.no_movement_radius_m))
), still AS (
    SELECT w.*, coalesce(
        (SELECT min(t.recorded_at) FROM track_points t
         WHERE t.patrol_id = w.patrol_id AND t.track_month = w.track_month
           AND t.recorded_at > moved.at),
        (SELECT min(t.recorded_at) FROM track_points t
         WHERE t.patrol_id = w.patrol_id AND t.track_month = w.track_month)) AS since
    FROM window_still w
    CROSS JOIN LATERAL (
        SELECT max(t.recorded_at) AS at FROM track_points t
        WHERE t.patrol_id = w.patrol_id AND t.track_month = w.track_month
          AND NOT ST_DWithin(t.geom::geography, w.geom::geography, w.no_movement_radius_m)
    ) moved
)
SELECT *, 'no_movement:' || patrol_id || ':' || extract(epoch FROM since)::bigint AS key
FROM still
WHERE recorded_at - since >= make_interval(mins => no_movement_min)
  AND NOT EXISTS (SELECT 1 FROM safety_alerts a WHERE a.area_id = still.area_id
                  AND a.dedupe_key = 'no_movement:' || patrol_id || ':'
                                     || extract(epoch FROM since)::bigint)
"""

DANGER_ZONE = f"""
SELECT p.id AS patrol_id, p.area_id, z.id AS zone_id, z.name AS zone_name, z.geom
FROM patrols p
LEFT JOIN device_positions dp ON dp.device_id = p.device_id AND dp.patrol_id = p.id
JOIN zones z ON z.area_id = p.area_id AND z.kind = 'danger' AND z.deleted_at IS NULL
WHERE p.ended_at IS NULL AND {_SCOPE}
  AND (ST_Intersects(z.geom, p.line) OR ST_Intersects(z.geom, dp.geom)
       -- fixes stored but not yet in the line (the worker draws it after the push)
       OR EXISTS (
           SELECT 1 FROM derived_backlog b
           WHERE b.area_id = p.area_id AND b.patrol_id = p.id
             AND ST_Intersects(z.geom, (
                 SELECT ST_MakeLine(t.geom ORDER BY t.recorded_at, t.seq) FROM track_points t
                 WHERE t.patrol_id = p.id AND t.track_month = p.track_month
                   AND (NOT b.extends OR b.since_at IS NULL
                        OR (t.recorded_at, t.seq) >= (b.since_at, b.since_seq)))))
      )
  AND NOT EXISTS (SELECT 1 FROM safety_alerts a WHERE a.area_id = p.area_id
                  AND a.dedupe_key = 'danger_zone:' || p.id || ':' || z.id)
"""

# A hostile report (its category says so) observed recently within the area's radius of another
# active patrol's last known position: warn everyone within that radius, and the managers.
HOSTILE = """
SELECT r.id, r.area_id, ST_PointOnSurface(r.geom) AS geom, c.label, r.observed_at,
       s.hostile_radius_km
FROM reports r
JOIN report_categories c ON c.id = r.category_id AND c.hostile
JOIN safety_settings s ON s.area_id = r.area_id
WHERE r.observed_at > now() - make_interval(mins => s.hostile_max_age_min)
  AND (CAST(:area AS uuid) IS NULL OR r.area_id = CAST(:area AS uuid))
  AND (CAST(:device AS uuid) IS NULL OR r.device_id = CAST(:device AS uuid))
  AND EXISTS (
      SELECT 1 FROM patrols p JOIN device_positions dp ON dp.device_id = p.device_id
      WHERE p.area_id = r.area_id AND p.ended_at IS NULL
        AND p.device_id IS DISTINCT FROM r.device_id
        AND ST_DWithin(dp.geom::geography, ST_PointOnSurface(r.geom)::geography,
                       s.hostile_radius_km * 1000))
  AND NOT EXISTS (SELECT 1 FROM safety_alerts a WHERE a.area_id = r.area_id
                  AND a.dedupe_key = 'hostile_incident:' || r.id)
"""

# SKIP LOCKED: an alert a push is just re-matching is escalated on the next round rather than
# waited for while this transaction holds the area's alert lock (no lock-order deadlock).
ESCALATE = f"""
UPDATE safety_alerts SET escalated_at = now()
WHERE id IN (
    SELECT a.id FROM safety_alerts a
    JOIN safety_settings s ON s.area_id = a.area_id
    WHERE a.severity = 'critical' AND a.escalated_at IS NULL AND {audience.ACTIVE}
      AND a.created_at < now() - make_interval(mins => s.escalate_after_min)
      AND (CAST(:area AS uuid) IS NULL OR a.area_id = CAST(:area AS uuid))
      AND EXISTS (SELECT 1 FROM ({audience.COUNTS}) c
                  WHERE c.recipients = 0 OR c.acknowledged < c.recipients)
    FOR UPDATE OF a SKIP LOCKED
)
RETURNING id
"""


@dataclass
class Fired:
    alerts: list[AlertView] = field(default_factory=list)
    escalated: list[uuid.UUID] = field(default_factory=list)

    def add(self, view: AlertView | None) -> None:
        if view is not None:
            self.alerts.append(view)


def _rows(session: Session, sql: str, area, device, patrol=None) -> list:
    params = {"area": area, "device": device, "patrol": patrol}
    return session.execute(text(sql), params).mappings().all()


def _shape(geom):
    """A geometry column read by raw SQL (hex EWKB) or by the ORM, as Shapely."""
    if geom is None:
        return None
    return shapely.wkb.loads(geom, hex=True) if isinstance(geom, str) else to_shape(geom)


def _clock(session: Session, area_id: uuid.UUID, moment: datetime, day: bool = False) -> str:
    """A time in a rule's message as the park reads it: its own zone, named (21:38 EAT)."""
    zone = session.scalar(text("SELECT timezone FROM areas WHERE id = :id"), {"id": area_id})
    local = moment.astimezone(ZoneInfo(zone or "UTC"))
    return local.strftime("%Y-%m-%d %H:%M %Z" if day else "%H:%M %Z")


def _overdue(session: Session, area, device, fired: Fired) -> None:
    for r in _rows(session, OVERDUE, area, device):
        where = _shape(r["geom"])
        last = ""
        if where is not None:
            last = f"; last position at {_clock(session, r['area_id'], r['fixed_at'])}"
        fired.add(
            raise_alert(
                session,
                r["area_id"],
                severity="critical",
                kind="overdue_patrol",
                source="rule",
                message=f"Patrol led by {r['username'] or 'unknown'} is overdue: planned to end "
                f"{_clock(session, r['area_id'], r['planned_end'], day=True)} and not ended{last}.",
                geometry=where,
                radius_m=r["nearby_radius_km"] * 1000 if where is not None else None,
                audience_={"geofence": True} if where is not None else None,
                dedupe_key=f"overdue_patrol:{r['id']}",
                subject_id=r["id"],
            )
        )


def _no_movement(session: Session, area, device, fired: Fired, patrol=None) -> None:
    for r in _rows(session, NO_MOVEMENT, area, device, patrol):
        minutes = int((r["recorded_at"] - r["since"]).total_seconds() // 60)
        since = _clock(session, r["area_id"], r["since"])
        fired.add(
            raise_alert(
                session,
                r["area_id"],
                severity="critical",
                kind="no_movement",
                source="rule",
                message=f"No movement for {minutes} min during an active patrol (within "
                f"{r['no_movement_radius_m']:.0f} m since {since}): "
                "possible injury.",
                geometry=_shape(r["geom"]),
                radius_m=r["nearby_radius_km"] * 1000,
                audience_={"geofence": True},
                dedupe_key=r["key"],
                subject_id=r["patrol_id"],
            )
        )


def _danger_zone(session: Session, area, device, fired: Fired, patrol=None) -> None:
    for r in _rows(session, DANGER_ZONE, area, device, patrol):
        fired.add(
            raise_alert(
                session,
                r["area_id"],
                severity="warning",
                kind="danger_zone",
                source="rule",
                message=f"A patrol entered the danger zone {r['zone_name']}.",
                geometry=_shape(r["geom"]),
                audience_={"geofence": True},
                dedupe_key=f"danger_zone:{r['patrol_id']}:{r['zone_id']}",
                subject_id=r["patrol_id"],
            )
        )


def _hostile(session: Session, area, device, fired: Fired) -> None:
    for r in _rows(session, HOSTILE, area, device):
        observed = _clock(session, r["area_id"], r["observed_at"])
        fired.add(
            raise_alert(
                session,
                r["area_id"],
                severity="critical",
                kind="hostile_incident",
                source="rule",
                message=f"{r['label']} reported at {observed} within "
                f"{r['hostile_radius_km']:g} km of your patrol.",
                geometry=_shape(r["geom"]),
                radius_m=r["hostile_radius_km"] * 1000,
                audience_={"geofence": True},
                dedupe_key=f"hostile_incident:{r['id']}",
                subject_id=r["id"],
            )
        )


def escalate(session: Session, area_id: uuid.UUID | None, fired: Fired) -> None:
    """Critical alerts not acknowledged by every device they concern, past the area's time."""
    for alert_id in session.execute(text(ESCALATE), {"area": area_id}).scalars().all():
        view = alert_view(session, find_alert(session, alert_id))
        notify_managers(session, view, "escalated")
        events.record(session, view.area_id, "escalated", view.id, event_payload(view))
        fired.escalated.append(alert_id)


def after_push(session: Session, device_id: uuid.UUID) -> Fired:
    """What a device's push may have changed, as far as a life may depend on it: its position,
    the geofenced alerts it enters, a danger zone its fixes crossed, a hostile report near a
    patrol, a patrol overdue. The movement rules wait for the derived line and figures
    (after_derived, run by the worker). The caller commits."""
    fired = Fired()
    area_id = session.execute(text(UPDATE_POSITION), {"device": device_id}).scalar_one_or_none()
    if area_id is None:  # no newer fix: positions did not change, but reports may have come
        area_id = session.execute(
            text("SELECT area_id FROM devices WHERE id = :d"), {"d": device_id}
        ).scalar_one()
    session.execute(text(ENSURE_SETTINGS), {"area": area_id})
    audience.match_positions(session, area_id, device_id=device_id)
    _overdue(session, area_id, device_id, fired)  # a patrol synced after its planned end
    # The movement rules look at the patrol the device is on now (its latest); the worker's
    # rounds look at every active patrol.
    patrol = session.execute(
        text("SELECT patrol_id FROM device_positions WHERE device_id = :d"), {"d": device_id}
    ).scalar_one_or_none()
    if patrol is not None:
        _danger_zone(session, area_id, device_id, fired, patrol)
    _hostile(session, area_id, None, fired)  # its reports, or its arrival near another's
    return fired


def after_derived(session: Session, patrols: list[tuple[uuid.UUID, uuid.UUID]]) -> Fired:
    """The worker derived these patrols' lines and figures ((area, patrol) pairs): the rules
    that read them, for these patrols only. The caller commits."""
    fired = Fired()
    for area_id in sorted({area for area, _ in patrols}):
        session.execute(text(ENSURE_SETTINGS), {"area": area_id})
    for area_id, patrol_id in patrols:
        _danger_zone(session, area_id, None, fired, patrol_id)  # a crossing between two fixes
        _no_movement(session, area_id, None, fired, patrol_id)
    return fired


def evaluate(session: Session, area_id: uuid.UUID | None = None) -> Fired:
    """Every rule and escalation for one area (the caller commits), or for every area, each in
    a transaction of its own (committed here): what the worker runs every 20 seconds. One area per
    transaction keeps each area's alert lock (server.safety.events) short, and a transaction
    never holds two areas' locks, so evaluations cannot deadlock one another."""
    if area_id is None:
        fired = Fired()
        for one in session.execute(text("SELECT id FROM areas ORDER BY id")).scalars().all():
            found = evaluate(session, one)
            session.commit()
            fired.alerts += found.alerts
            fired.escalated += found.escalated
        return fired
    fired = Fired()
    session.execute(text(ENSURE_SETTINGS), {"area": area_id})
    for rule in (_overdue, _danger_zone, _no_movement, _hostile):
        rule(session, area_id, None, fired)
    escalate(session, area_id, fired)
    return fired
