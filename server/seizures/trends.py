"""Seizure trends (resolution para 15): by taxon, by specimen type, by route and by month, for
an area or every area of a country, over a period of the parks' local dates. One statement per
figure; quantities are summed per unit only (kilograms and counts never add up together)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from server.core.errors import Invalid
from server.core.policy import Actor
from server.seizures.cites import scope

# The seizures in scope and period, with their local date: every figure starts from these.
IN_SCOPE = """
WITH s AS (
    SELECT s.*, (s.seized_at AT TIME ZONE a.timezone)::date AS day
    FROM seizures s JOIN areas a ON a.id = s.area_id
    WHERE s.area_id = ANY(:areas)
      AND (CAST(:start AS date) IS NULL
           OR s.seized_at >= (CAST(:start AS date)::timestamp AT TIME ZONE a.timezone))
      AND (CAST(:end AS date) IS NULL
           OR s.seized_at < ((CAST(:end AS date) + 1)::timestamp AT TIME ZONE a.timezone))
)
"""
FIGURES = {
    "taxon": """
        SELECT coalesce(t.scientific_name, 'unresolved: ' || i.taxon_text) AS taxon,
               t.cites_appendix AS appendix, i.unit,
               count(DISTINCT s.id) AS seizures, count(*) AS items, sum(i.quantity) AS quantity
        FROM s JOIN seizure_items i ON i.seizure_id = s.id
        LEFT JOIN taxa t ON t.id = i.taxon_id
        GROUP BY 1, 2, 3 ORDER BY seizures DESC, taxon, unit""",
    "term": """
        SELECT i.term, i.unit,
               count(DISTINCT s.id) AS seizures, count(*) AS items, sum(i.quantity) AS quantity
        FROM s JOIN seizure_items i ON i.seizure_id = s.id
        GROUP BY 1, 2 ORDER BY seizures DESC, term, unit""",
    # A seizure from several origins or to several destinations counts once on each route;
    # an unknown end (no country given) is null.
    "route": """
        SELECT o.country AS origin, d.country AS destination, count(DISTINCT s.id) AS seizures
        FROM s
        LEFT JOIN LATERAL unnest(s.origin_countries) AS o(country) ON true
        LEFT JOIN LATERAL unnest(s.destination_countries) AS d(country) ON true
        GROUP BY 1, 2 ORDER BY seizures DESC, origin NULLS LAST, destination NULLS LAST""",
    "month": """
        SELECT to_char(date_trunc('month', s.day), 'YYYY-MM') AS month,
               count(DISTINCT s.id) AS seizures, count(i.*) AS items
        FROM s JOIN seizure_items i ON i.seizure_id = s.id
        GROUP BY 1 ORDER BY 1""",
}


def trend(
    session: Session,
    actor: Actor,
    figure: str,
    area: str | None = None,
    country: str | None = None,
    start: date | None = None,
    end: date | None = None,
) -> list[dict[str, Any]]:
    if figure not in FIGURES:
        raise Invalid(f"no figure {figure!r}; there are {', '.join(FIGURES)}")
    if start and end and end < start:
        raise Invalid("the period ends before it starts", errors={"end": ["before start"]})
    area_ids, _, _ = scope(session, actor, area, country)
    rows = session.execute(
        text(IN_SCOPE + FIGURES[figure]), {"areas": area_ids, "start": start, "end": end}
    )
    return [dict(row._mapping) for row in rows]


HOTSPOT_CELL_DEG = 0.01  # about 1.1 km: where seizures cluster, not where each one was

HOTSPOTS = """
SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(
    json_build_object(
        'type', 'Feature',
        'geometry', ST_AsGeoJSON(ST_MakeEnvelope(i * :size, j * :size, (i + 1) * :size,
                                                 (j + 1) * :size, 4326), 6)::json,
        'properties', json_build_object('seizures', seizures, 'items', items))
    ORDER BY i, j), '[]'::json))
FROM (
    SELECT floor(ST_X(s.geom) / :size)::int AS i, floor(ST_Y(s.geom) / :size)::int AS j,
           count(DISTINCT s.id) AS seizures, count(*) AS items
    FROM s JOIN seizure_items it ON it.seizure_id = s.id
    GROUP BY 1, 2
) cells
"""


def hotspots(
    session: Session,
    actor: Actor,
    area: str,
    start: date | None = None,
    end: date | None = None,
) -> dict:
    """Seizures counted on a grid of HOTSPOT_CELL_DEG cells, as GeoJSON, for the map layer.
    Managers only (seizure.view), like every seizure figure: partners get none."""
    area_ids, _, _ = scope(session, actor, area, None)
    return session.execute(
        text(IN_SCOPE + HOTSPOTS),
        {"areas": area_ids, "start": start, "end": end, "size": HOTSPOT_CELL_DEG},
    ).scalar_one()
