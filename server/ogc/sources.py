"""The rows behind each kind of collection, as SQL relations of one shape.

Every source yields `k` (the keyset column, native type, unique and indexed where it matters),
`fid` (the feature id as text), `geom` (EPSG:4326), and then its properties, one column each
(what CQL2 filters and the HTML page see). Sources see :area, and :t_start / :t_end (NULL: open)
for the `datetime` parameter, applied before any aggregation. Nothing here reaches patrols,
tracks, positions, report free text or photos: observations come through the geoprivacy view,
effort and findings are grid cells, effort only for days at least EFFORT_DELAY_DAYS old.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from server.partners.geoprivacy import GRID_SRID, OBSERVATIONS, uncertainty_sql

# Patrol effort is shown only for days at least this old: where rangers were this week is
# exactly what a poacher wants to know.
EFFORT_DELAY_DAYS = 7

_T = (
    "(CAST(:t_start AS timestamptz) IS NULL OR {t} >= :t_start) AND"
    " (CAST(:t_end AS timestamptz) IS NULL OR {t} <= :t_end)"
)


def _time(t: str) -> str:
    return _T.format(t=t)


@dataclass(frozen=True)
class Queryable:
    name: str
    type: str  # JSON Schema type
    format: str | None = None


@dataclass(frozen=True)
class Source:
    kind: str
    title: str
    description: str
    sql: str
    key_type: str  # "uuid" or "text": how an `after`/`before` cursor is cast
    properties: tuple[str, ...]
    queryables: tuple[Queryable, ...] = ()
    geometry: str = "geometry"  # the JSON Schema geometry kind for queryables
    temporal: bool = True
    params: dict = field(default_factory=dict)


BOUNDARY = Source(
    "boundary",
    "Boundary",
    "The protected area's boundary.",
    """SELECT a.id AS k, a.id::text AS fid, a.boundary AS geom, a.slug, a.name, a.timezone
       FROM areas a WHERE a.id = :area""",
    "uuid",
    ("slug", "name", "timezone"),
    (Queryable("slug", "string"), Queryable("name", "string")),
    "multipolygon",
    temporal=False,
)

ZONES = Source(
    "zones",
    "Zones",
    "Management zones of the area.",
    f"""SELECT z.id AS k, z.id::text AS fid, z.geom, z.name, z.kind, z.updated_at
        FROM zones z WHERE z.area_id = :area AND z.deleted_at IS NULL
          AND {_time("z.updated_at")}""",
    "uuid",
    ("name", "kind", "updated_at"),
    (
        Queryable("name", "string"),
        Queryable("kind", "string"),
        Queryable("updated_at", "string", "date-time"),
    ),
    "multipolygon",
)


def layer(name: str) -> Source:
    return Source(
        f"layer-{name}",
        name.replace("_", " ").capitalize(),
        f"Map layer '{name}' of the area.",
        f"""SELECT f.id AS k, f.id::text AS fid, f.geom, f.name, f.properties, f.updated_at
            FROM map_features f WHERE f.area_id = :area AND f.layer = :layer
              AND f.deleted_at IS NULL AND {_time("f.updated_at")}""",
        "uuid",
        ("name", "properties", "updated_at"),
        (Queryable("name", "string"), Queryable("updated_at", "string", "date-time")),
        params={"layer": name},
    )


OBSERVATION_SOURCE = Source(
    "observations",
    "Wildlife observations",
    "Reports as partners may see them: hidden, snapped to the centre of a grid cell or exact per "
    "category and species (coordinate_uncertainty_m says which), after any embargo; no free text.",
    f"""SELECT o.id AS k, o.id::text AS fid, o.geom, o.category, o.category_label, o.species,
               (o.attributes ->> 'count')::int AS individual_count, o.attributes,
               o.observed_on, o.observed_at, {uncertainty_sql("o.cell_m")}
                   AS coordinate_uncertainty_m
        FROM ({OBSERVATIONS.replace("ANY(:areas)", ":area")}) o
        WHERE {_time("o.t")}""",
    "uuid",
    (
        "category",
        "category_label",
        "species",
        "individual_count",
        "attributes",
        "observed_on",
        "observed_at",
        "coordinate_uncertainty_m",
    ),
    (
        Queryable("category", "string"),
        Queryable("species", "string"),
        Queryable("individual_count", "integer"),
        Queryable("observed_on", "string", "date"),
        Queryable("coordinate_uncertainty_m", "number"),
    ),
    "point",
)

# The area's coverage grid (server.analytics): cell (i, j) spans [i·cell, (i+1)·cell) metres.
_GRID = """grid AS (
    SELECT coalesce((SELECT cell_m FROM coverage_settings WHERE area_id = :area), 500) AS cell_m)"""
_CELL = f"""ST_Transform(ST_MakeEnvelope(c.i * grid.cell_m, c.j * grid.cell_m,
    (c.i + 1) * grid.cell_m, (c.j + 1) * grid.cell_m, {GRID_SRID}), 4326)"""
_EFFORT_DAYS = f"""v.area_id = :area
    AND v.day <= (now() AT TIME ZONE (SELECT timezone FROM areas WHERE id = :area))::date
                 - {EFFORT_DELAY_DAYS}
    AND (CAST(:t_start AS timestamptz) IS NULL OR v.day >= CAST(:t_start AS date))
    AND (CAST(:t_end AS timestamptz) IS NULL OR v.day <= CAST(:t_end AS date))"""

EFFORT = Source(
    "effort",
    "Patrol effort",
    f"Patrol effort per grid cell (never tracks or positions), for days at least "
    f"{EFFORT_DELAY_DAYS} days old.",
    f"""WITH {_GRID}
        SELECT c.i || '_' || c.j AS k, c.i || '_' || c.j AS fid, {_CELL} AS geom,
               grid.cell_m, c.patrols, c.days, round(c.km::numeric, 3)::float AS km,
               round(c.hours::numeric, 3)::float AS hours, c.first_day, c.last_day
        FROM (SELECT v.i, v.j, count(DISTINCT v.patrol_id) AS patrols,
                     count(DISTINCT v.day) AS days, sum(v.distance_m) / 1000 AS km,
                     sum(v.seconds) / 3600 AS hours, min(v.day) AS first_day,
                     max(v.day) AS last_day
              FROM coverage_visits v WHERE {_EFFORT_DAYS} GROUP BY v.i, v.j) c
        CROSS JOIN grid""",
    "text",
    ("cell_m", "patrols", "days", "km", "hours", "first_day", "last_day"),
    (
        Queryable("patrols", "integer"),
        Queryable("days", "integer"),
        Queryable("km", "number"),
        Queryable("hours", "number"),
    ),
    "polygon",
)

FINDINGS = Source(
    "findings",
    "Findings per cell",
    "Observations partners may see, counted per grid cell (where their shown position falls), "
    "with the cell's patrol effort and findings per km and per hour (CPUE).",
    f"""WITH {_GRID},
        found AS (
            SELECT floor(ST_X(ST_Transform(o.geom, {GRID_SRID})) / grid.cell_m)::int AS i,
                   floor(ST_Y(ST_Transform(o.geom, {GRID_SRID})) / grid.cell_m)::int AS j,
                   count(*) AS findings,
                   string_agg(DISTINCT o.category, ',' ORDER BY o.category) AS categories
            FROM ({OBSERVATIONS.replace("ANY(:areas)", ":area")}) o CROSS JOIN grid
            WHERE {_time("o.t")} GROUP BY 1, 2),
        effort AS (
            SELECT v.i, v.j, sum(v.distance_m) / 1000 AS km, sum(v.seconds) / 3600 AS hours
            FROM coverage_visits v WHERE {_EFFORT_DAYS} GROUP BY v.i, v.j)
        SELECT c.i || '_' || c.j AS k, c.i || '_' || c.j AS fid, {_CELL} AS geom,
               grid.cell_m, c.findings, c.categories,
               round(coalesce(e.km, 0)::numeric, 3)::float AS km,
               round(coalesce(e.hours, 0)::numeric, 3)::float AS hours,
               round((c.findings / nullif(e.km, 0))::numeric, 4)::float AS per_km,
               round((c.findings / nullif(e.hours, 0))::numeric, 4)::float AS per_hour
        FROM found c CROSS JOIN grid LEFT JOIN effort e USING (i, j)""",
    "text",
    ("cell_m", "findings", "categories", "km", "hours", "per_km", "per_hour"),
    (
        Queryable("findings", "integer"),
        Queryable("categories", "string"),
        Queryable("km", "number"),
        Queryable("per_km", "number"),
        Queryable("per_hour", "number"),
    ),
    "polygon",
)

BUILT_IN = {s.kind: s for s in (BOUNDARY, ZONES, OBSERVATION_SOURCE, EFFORT, FINDINGS)}
