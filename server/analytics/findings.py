"""Findings against effort: reports by category per grid cell and period, CPUE (findings per km
and per hour of patrol), hotspots and monthly trends. Rejected reports are not findings."""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.orm import Session

from server.analytics.common import Period, cell_size
from server.analytics.tracks import GRID_SRID
from server.core.policy import Action, Actor, authorize

# Reports of the area in the period, each placed in its grid cell and local day.
FINDINGS = f"""
    findings AS (
        SELECT r.id, c.key AS category,
               floor(ST_X(ST_Transform(ST_PointOnSurface(r.geom), {GRID_SRID})) / :cell)::int AS i,
               floor(ST_Y(ST_Transform(ST_PointOnSurface(r.geom), {GRID_SRID})) / :cell)::int AS j,
               (r.observed_at AT TIME ZONE a.timezone)::date AS day
        FROM reports r JOIN report_categories c ON c.id = r.category_id
        JOIN areas a ON a.id = r.area_id
        WHERE r.area_id = :area AND r.status <> 'rejected'
          AND (CAST(:category AS text) IS NULL OR c.key = :category
               OR c.key LIKE CAST(:category AS text) || '.%')
          AND (r.observed_at AT TIME ZONE a.timezone)::date BETWEEN :start AND :end
    )"""
EFFORT = """
    effort AS (
        SELECT coalesce(sum(distance_m), 0) / 1000 AS km, coalesce(sum(seconds), 0) / 3600 AS hours
        FROM coverage_visits WHERE area_id = :area AND day BETWEEN :start AND :end
    )"""
CELL_EFFORT = """
    cell_effort AS (
        SELECT i, j, sum(distance_m) / 1000 AS km, sum(seconds) / 3600 AS hours
        FROM coverage_visits WHERE area_id = :area AND day BETWEEN :start AND :end
        GROUP BY i, j
    )"""
CELL_POLYGON = f"""ST_AsGeoJSON(ST_Transform(ST_MakeEnvelope(
    f.i * :cell, f.j * :cell, (f.i + 1) * :cell, (f.j + 1) * :cell, {GRID_SRID}), 4326), 7)::json"""


def _params(session, area_id, p: Period, category: str | None) -> dict:
    return {
        "area": area_id,
        "cell": cell_size(session, area_id),
        "start": p.start,
        "end": p.end,
        "category": category,
    }


def _rows(session: Session, sql: str, params: dict) -> list[dict]:
    return [dict(r) for r in session.execute(text(sql), params).mappings()]


def cpue(
    session: Session, actor: Actor, area_id: uuid.UUID, p: Period, category: str | None
) -> list[dict]:
    """Per category: findings, the period's patrol km and hours, findings per km and per hour."""
    authorize(actor, Action.ANALYTICS_VIEW, area_id, "area")
    return _rows(
        session,
        f"""WITH {FINDINGS}, {EFFORT}
        SELECT f.category, count(*) AS findings, e.km, e.hours,
               count(*) / nullif(e.km, 0) AS per_km, count(*) / nullif(e.hours, 0) AS per_hour
        FROM findings f CROSS JOIN effort e
        GROUP BY f.category, e.km, e.hours ORDER BY f.category""",
        _params(session, area_id, p, category),
    )


def cells(
    session: Session, actor: Actor, area_id: uuid.UUID, p: Period, category: str | None
) -> list[dict]:
    """Per cell and category: findings, the cell's effort and its CPUE (None: no effort there)."""
    authorize(actor, Action.ANALYTICS_VIEW, area_id, "area")
    return _rows(
        session,
        f"""WITH {FINDINGS}, {CELL_EFFORT}
        SELECT f.i, f.j, f.category, count(*) AS findings, coalesce(e.km, 0) AS km,
               coalesce(e.hours, 0) AS hours, count(*) / nullif(e.km, 0) AS per_km,
               count(*) / nullif(e.hours, 0) AS per_hour, {CELL_POLYGON} AS geometry
        FROM findings f LEFT JOIN cell_effort e USING (i, j)
        GROUP BY f.i, f.j, f.category, e.km, e.hours ORDER BY f.i, f.j, f.category""",
        _params(session, area_id, p, category),
    )


def hotspots(
    session: Session, actor: Actor, area_id: uuid.UUID, p: Period, category: str | None, limit: int
) -> list[dict]:
    """The cells with the most findings (then the highest findings per hour)."""
    authorize(actor, Action.ANALYTICS_VIEW, area_id, "area")
    return _rows(
        session,
        f"""WITH {FINDINGS}, {CELL_EFFORT}
        SELECT f.i, f.j, count(*) AS findings,
               string_agg(DISTINCT f.category, ', ' ORDER BY f.category) AS categories,
               coalesce(e.km, 0) AS km, coalesce(e.hours, 0) AS hours,
               count(*) / nullif(e.hours, 0) AS per_hour, {CELL_POLYGON} AS geometry
        FROM findings f LEFT JOIN cell_effort e USING (i, j)
        GROUP BY f.i, f.j, e.km, e.hours
        ORDER BY findings DESC, per_hour DESC NULLS LAST, f.i, f.j LIMIT :limit""",
        _params(session, area_id, p, category) | {"limit": limit},
    )


def trends(
    session: Session, actor: Actor, area_id: uuid.UUID, p: Period, category: str | None
) -> list[dict]:
    """Per month and category: findings, that month's patrol km and hours, and CPUE."""
    authorize(actor, Action.ANALYTICS_VIEW, area_id, "area")
    return _rows(
        session,
        f"""WITH {FINDINGS},
        monthly AS (
            SELECT to_char(day, 'YYYY-MM') AS month, sum(distance_m) / 1000 AS km,
                   sum(seconds) / 3600 AS hours
            FROM coverage_visits WHERE area_id = :area AND day BETWEEN :start AND :end
            GROUP BY 1
        ), counted AS (
            SELECT to_char(day, 'YYYY-MM') AS month, category, count(*) AS findings
            FROM findings GROUP BY 1, 2
        )
        SELECT coalesce(c.month, m.month) AS month, c.category, coalesce(c.findings, 0) AS findings,
               coalesce(m.km, 0) AS km, coalesce(m.hours, 0) AS hours,
               coalesce(c.findings, 0) / nullif(m.km, 0) AS per_km,
               coalesce(c.findings, 0) / nullif(m.hours, 0) AS per_hour
        FROM counted c FULL JOIN monthly m ON m.month = c.month
        ORDER BY 1, 2 NULLS FIRST""",
        _params(session, area_id, p, category),
    )
