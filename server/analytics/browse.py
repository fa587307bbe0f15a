"""What the dashboard reads besides the figures: the area's layers, patrol tracks, live positions,
reports to triage with their photos, patrols with their effort, as GeoJSON or rows."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from server.analytics.common import Period, analysed_area
from server.core.errors import NotFound
from server.core.policy import Action, Actor, authorize

LIVE_WITHIN = timedelta(hours=12)  # a patrol silent longer than this is not shown as live


def _rows(session: Session, sql: str, params: dict) -> list[dict]:
    return [dict(r) for r in session.execute(text(sql), params).mappings()]


def layers(session: Session, actor: Actor, area: str | uuid.UUID) -> list[dict]:
    """The boundary, the zones and the map features, each row with a GeoJSON geometry."""
    area_id = analysed_area(session, actor, area, Action.MAP_VIEW)
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


PATROLS = """
    SELECT p.id, p.area_id, p.patrol_type, p.mandate, p.objective, p.started_at, p.ended_at,
           p.armed,
           t.name AS team, u.display_name AS leader,
           (SELECT string_agg(mu.display_name, ', ' ORDER BY mu.display_name)
            FROM patrol_members m JOIN users mu ON mu.id = m.user_id
            WHERE m.patrol_id = p.id) AS members,
           coalesce(e.fixes, p.point_count) AS fixes, e.poor_accuracy, e.impossible_speed,
           e.quality,
           coalesce(e.distance_m, 0) / 1000 AS km, coalesce(e.duration_s, 0) / 3600 AS hours,
           coalesce(e.moving_s, 0) / 3600 AS moving_hours,
           (SELECT count(*) FROM reports r WHERE r.patrol_id = p.id) AS reports,
           {geometry} AS geometry
    FROM patrols p LEFT JOIN teams t ON t.id = p.team_id LEFT JOIN users u ON u.id = p.leader_id
    LEFT JOIN patrol_effort e ON e.patrol_id = p.id
    LEFT JOIN areas a ON a.id = p.area_id
"""


def patrols(
    session: Session, actor: Actor, area: str | uuid.UUID, p: Period, with_tracks: bool = False
) -> list[dict]:
    """Patrols that started in the period (local days), newest first, with cleaned effort."""
    area_id = analysed_area(session, actor, area, Action.PATROL_VIEW)
    geometry = "ST_AsGeoJSON(p.line, 7)::json" if with_tracks else "NULL::json"
    return _rows(
        session,
        PATROLS.format(geometry=geometry)
        + """WHERE p.area_id = :area
             AND (p.started_at AT TIME ZONE a.timezone)::date BETWEEN :start AND :end
           ORDER BY p.started_at DESC""",
        {"area": area_id, "start": p.start, "end": p.end},
    )


def patrol(session: Session, actor: Actor, patrol_id: uuid.UUID) -> dict:
    """One patrol: its figures and track, legs, hours per zone and the reports filed on it."""
    area_id = session.execute(
        text("SELECT area_id FROM patrols WHERE id = :p"), {"p": patrol_id}
    ).scalar()
    if area_id is None:
        raise NotFound("no such patrol")
    authorize(actor, Action.PATROL_VIEW, area_id, "patrol")
    params = {"p": patrol_id}
    row = _rows(
        session,
        PATROLS.format(geometry="ST_AsGeoJSON(p.line, 7)::json") + "WHERE p.id = :p",
        params,
    )[0]
    row["legs"] = _rows(
        session,
        """
        SELECT leg_number, patrol_type, transport, started_at, ended_at FROM patrol_legs
        WHERE patrol_id = :p ORDER BY leg_number""",
        params,
    )
    row["zones"] = _rows(
        session,
        """
        SELECT z.name, sum(v.seconds) / 3600 AS hours, sum(v.distance_m) / 1000 AS km
        FROM zone_visits v JOIN zones z ON z.id = v.zone_id WHERE v.patrol_id = :p
        GROUP BY z.name ORDER BY z.name""",
        params,
    )
    row["report_list"] = _rows(
        session, REPORTS + "WHERE r.patrol_id = :p ORDER BY r.observed_at", params
    )
    return row


def live_positions(
    session: Session, actor: Actor, area: str | uuid.UUID, now: datetime
) -> list[dict]:
    """The last fix of every patrol still under way (not ended, heard from in the last 12 h)."""
    area_id = analysed_area(session, actor, area, Action.PATROL_VIEW)
    return _rows(
        session,
        """
        SELECT p.id AS patrol_id, p.patrol_type, t.name AS team, u.display_name AS leader,
               f.recorded_at, f.accuracy_m, ST_AsGeoJSON(f.geom, 7)::json AS geometry
        FROM patrols p
        JOIN LATERAL (SELECT recorded_at, accuracy_m, geom FROM track_points
                      WHERE patrol_id = p.id AND track_month = p.track_month
                      ORDER BY recorded_at DESC, seq DESC LIMIT 1  -- latest in time, not in seq
                     ) f ON true
        LEFT JOIN teams t ON t.id = p.team_id LEFT JOIN users u ON u.id = p.leader_id
        WHERE p.area_id = :area AND p.ended_at IS NULL AND f.recorded_at > :since
        ORDER BY f.recorded_at DESC""",
        {"area": area_id, "since": now - LIVE_WITHIN},
    )


REPORTS = """
    SELECT r.id, c.key AS category, c.label, r.status, r.priority, r.version, r.observed_at,
           r.received_at, r.patrol_id, r.clock_suspect, r.notes,
           (SELECT count(*) FROM attachments x WHERE x.report_id = r.id) AS attachments,
           ST_AsGeoJSON(r.geom, 7)::json AS geometry
    FROM reports r JOIN report_categories c ON c.id = r.category_id
"""


def reports(
    session: Session,
    actor: Actor,
    area: str | uuid.UUID,
    *,
    status: str | None = None,
    category: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict]:
    """Reports to triage, newest first, filtered by status, category (or its parent) and time."""
    area_id = analysed_area(session, actor, area, Action.REPORT_VIEW)
    return _rows(
        session,
        REPORTS
        + """WHERE r.area_id = :area
             AND (CAST(:status AS text) IS NULL OR r.status = :status)
             AND (CAST(:category AS text) IS NULL OR c.key = :category
                  OR c.key LIKE CAST(:category AS text) || '.%')
             AND (CAST(:start AS timestamptz) IS NULL OR r.observed_at >= :start)
             AND (CAST(:end AS timestamptz) IS NULL OR r.observed_at < :end)
           ORDER BY r.observed_at DESC, r.id LIMIT :limit OFFSET :offset""",
        {
            "area": area_id,
            "status": status,
            "category": category,
            "start": start,
            "end": end,
            "limit": limit,
            "offset": offset,
        },
    )


def attachments(session: Session, actor: Actor, report_id: uuid.UUID) -> list[dict]:
    area_id = session.execute(
        text("SELECT area_id FROM reports WHERE id = :r"), {"r": report_id}
    ).scalar()
    if area_id is None:
        raise NotFound("no such report")
    authorize(actor, Action.EVIDENCE_VIEW, area_id, "report")
    return _rows(
        session,
        """
        SELECT id, media_type, size_bytes, sha256, state, stored_at FROM attachments
        WHERE report_id = :r ORDER BY created_at, id""",
        {"r": report_id},
    )
