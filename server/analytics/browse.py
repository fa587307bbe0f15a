"""What the dashboard reads besides the figures: the area's layers, live positions, and patrols
with their cleaned effort (the patrols themselves from server.patrols.listing; reports to triage
are listed by server.reports.listing)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from server.analytics.common import Period
from server.core.policy import Action, Actor, authorize
from server.patrols import listing as patrol_listing
from server.patrols.listing import LegRow, PatrolRow
from server.reports import listing as report_listing
from server.reports.listing import ReportRow

LIVE_WITHIN = timedelta(hours=12)  # a patrol silent longer than this is not shown as live


def _rows(session: Session, sql: str, params: dict) -> list[dict]:
    return [dict(r) for r in session.execute(text(sql), params).mappings()]


def layers(session: Session, actor: Actor, area_id: uuid.UUID) -> list[dict]:
    """The boundary, the zones and the map features, each row with a GeoJSON geometry."""
    authorize(actor, Action.MAP_VIEW, area_id, "area")
    return _rows(
        session,
        """
        SELECT 'boundary' AS layer, id, name, NULL AS kind,
               ST_AsGeoJSON(boundary, 7)::json AS geometry
        FROM areas WHERE id = :area
        UNION ALL
        SELECT 'zone', id, name, kind, ST_AsGeoJSON(geom, 7)::json FROM zones
        WHERE area_id = :area AND deleted_at IS NULL
        UNION ALL
        SELECT layer, id, name, NULL, ST_AsGeoJSON(geom, 7)::json FROM map_features
        WHERE area_id = :area AND deleted_at IS NULL""",
        {"area": area_id},
    )


@dataclass(frozen=True)
class PatrolWithEffort:
    """A patrol as the dashboard lists it: the patrol (server.patrols.listing), its cleaned
    effort (patrol_effort) and how many reports were filed on it."""

    id: uuid.UUID
    area_id: uuid.UUID
    patrol_type: str
    mandate: str | None
    objective: str | None
    started_at: datetime
    ended_at: datetime | None
    planned_start: datetime | None
    planned_end: datetime | None
    overdue: bool
    armed: bool
    team: str | None
    leader: str | None
    members: str | None
    fixes: int
    poor_accuracy: int | None
    impossible_speed: int | None
    quality: float | None
    km: float
    hours: float
    moving_hours: float
    reports: int
    geometry: dict[str, Any] | None


@dataclass(frozen=True)
class PatrolDetail(PatrolWithEffort):
    legs: list[LegRow]
    zones: list[dict]  # hours and km per zone
    report_list: list[ReportRow]


_EFFORT = """
SELECT patrol_id, fixes, poor_accuracy, impossible_speed, quality, distance_m, duration_s,
       moving_s
FROM patrol_effort WHERE patrol_id = ANY(:ids)
"""


def _with_effort(session: Session, rows: list[PatrolRow]) -> list[PatrolWithEffort]:
    ids = [r.id for r in rows]
    effort = {
        e["patrol_id"]: dict(e) for e in session.execute(text(_EFFORT), {"ids": ids}).mappings()
    }
    reports = report_listing.counts_by_patrol(session, ids)
    out = []
    for r in rows:
        e = effort.get(r.id, {})
        out.append(
            PatrolWithEffort(
                id=r.id,
                area_id=r.area_id,
                patrol_type=r.patrol_type,
                mandate=r.mandate,
                objective=r.objective,
                started_at=r.started_at,
                ended_at=r.ended_at,
                planned_start=r.planned_start,
                planned_end=r.planned_end,
                overdue=r.overdue,
                armed=r.armed,
                team=r.team,
                leader=r.leader,
                members=r.members,
                fixes=r.point_count if e.get("fixes") is None else e["fixes"],
                poor_accuracy=e.get("poor_accuracy"),
                impossible_speed=e.get("impossible_speed"),
                quality=e.get("quality"),
                km=(e.get("distance_m") or 0) / 1000,
                hours=(e.get("duration_s") or 0) / 3600,
                moving_hours=(e.get("moving_s") or 0) / 3600,
                reports=reports.get(r.id, 0),
                geometry=r.geometry,
            )
        )
    return out


def patrols(
    session: Session,
    actor: Actor,
    area_id: uuid.UUID,
    p: Period,
    with_tracks: bool = False,
    **listing,
) -> list[PatrolWithEffort]:
    """Patrols that started in the period (local days), newest first, with cleaned effort;
    `listing`: search, order and paging as server.patrols.listing.list_patrols takes them."""
    rows = patrol_listing.list_patrols(
        session, actor, area_id, p.start, p.end, with_tracks, **listing
    )
    return _with_effort(session, rows)


def patrol(session: Session, actor: Actor, patrol_id: uuid.UUID) -> PatrolDetail:
    """One patrol: its figures and track, legs, hours per zone and the reports filed on it."""
    [row] = _with_effort(session, [patrol_listing.get_patrol_row(session, actor, patrol_id)])
    zones = _rows(
        session,
        """
        SELECT z.name, sum(v.seconds) / 3600 AS hours, sum(v.distance_m) / 1000 AS km
        FROM zone_visits v JOIN zones z ON z.id = v.zone_id WHERE v.patrol_id = :p
        GROUP BY z.name ORDER BY z.name""",
        {"p": patrol_id},
    )
    return PatrolDetail(
        **vars(row),
        legs=patrol_listing.legs_of(session, patrol_id),
        zones=zones,
        report_list=report_listing.reports_of_patrol(session, patrol_id),
    )


def live_positions(session: Session, actor: Actor, area_id: uuid.UUID, now: datetime) -> list[dict]:
    """The last fix of every patrol still under way (not ended, heard from in the last 12 h)."""
    authorize(actor, Action.PATROL_VIEW, area_id, "area")
    return _rows(
        session,
        """
        SELECT p.id AS patrol_id, p.patrol_type, t.name AS team, u.display_name AS leader,
               COALESCE(du.display_name, u.display_name) AS ranger, d.name AS device,
               f.recorded_at, f.accuracy_m, ST_AsGeoJSON(f.geom, 7)::json AS geometry
        FROM patrols p
        JOIN LATERAL (SELECT recorded_at, accuracy_m, geom FROM track_points
                      WHERE patrol_id = p.id AND track_month = p.track_month
                      ORDER BY recorded_at DESC, seq DESC LIMIT 1  -- latest in time, not in seq
                     ) f ON true
        LEFT JOIN teams t ON t.id = p.team_id LEFT JOIN users u ON u.id = p.leader_id
        LEFT JOIN devices d ON d.id = p.device_id LEFT JOIN users du ON du.id = d.user_id
        WHERE p.area_id = :area AND p.ended_at IS NULL AND f.recorded_at > :since
        ORDER BY f.recorded_at DESC""",
        {"area": area_id, "since": now - LIVE_WITHIN},
    )
