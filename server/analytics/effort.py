"""Patrol effort over a period from the cleaned tracks: km, hours and moving hours per ranger, team,
patrol type, zone, patrol, day or month."""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.orm import Session

from server.analytics.common import Period
from server.core.policy import Action, Actor, authorize

# What effort can be grouped by: (key, label, extra joins). Fixed strings, chosen by name.
GROUPINGS = {
    "patrol_type": ("p.patrol_type", "p.patrol_type", ""),
    "team": (
        "coalesce(t.id::text, '')",
        "coalesce(t.name, '(no team)')",
        "LEFT JOIN teams t ON t.id = p.team_id",
    ),
    "ranger": (
        "u.username",
        "u.display_name",
        "JOIN patrol_members m ON m.patrol_id = p.id JOIN users u ON u.id = m.user_id",
    ),
    "patrol": (
        "p.id::text",
        "to_char(p.started_at, 'YYYY-MM-DD HH24:MI') || ' ' || p.patrol_type",
        "",
    ),
    "day": ("v.day::text", "v.day::text", ""),
    "month": ("to_char(v.day, 'YYYY-MM')", "to_char(v.day, 'YYYY-MM')", ""),
}
BY = (*GROUPINGS, "zone")


def effort(session: Session, actor: Actor, area_id: uuid.UUID, p: Period, by: str) -> list[dict]:
    """One row per group: patrols, km, hours (clean track time) and moving hours. A patrol with
    four rangers counts in full for each of them (that is each ranger's effort)."""
    authorize(actor, Action.ANALYTICS_VIEW, area_id, "area")
    params = {"area": area_id, "start": p.start, "end": p.end}
    if by == "zone":  # time inside each zone, from steps that start inside it
        sql = """
            SELECT z.id::text AS key, z.name AS label, count(DISTINCT v.patrol_id) AS patrols,
                   sum(v.distance_m) / 1000 AS km, sum(v.seconds) / 3600 AS hours,
                   NULL::float8 AS moving_hours
            FROM zone_visits v JOIN zones z ON z.id = v.zone_id
            WHERE v.area_id = :area AND v.day BETWEEN :start AND :end
            GROUP BY z.id, z.name ORDER BY z.name"""
    else:
        key, label, joins = GROUPINGS[by]
        sql = f"""
            SELECT {key} AS key, {label} AS label, count(DISTINCT v.patrol_id) AS patrols,
                   sum(v.distance_m) / 1000 AS km, sum(v.seconds) / 3600 AS hours,
                   sum(v.moving_s) / 3600 AS moving_hours
            FROM coverage_visits v JOIN patrols p ON p.id = v.patrol_id {joins}
            WHERE v.area_id = :area AND v.day BETWEEN :start AND :end
            GROUP BY 1, 2 ORDER BY 2, 1"""
    return [dict(r) for r in session.execute(text(sql), params).mappings()]
