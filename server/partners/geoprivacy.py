"""Geoprivacy: what partners see of each report, as one SQL relation every partner output reads.

Per category (with its sub-categories), per species named in the report, or for every report of
the area, a rule says: hidden, snapped to the centre of a fixed grid cell of `cell_m` metres, or
exact; and optionally an embargo of N days. The most restrictive matching rule wins. A report no
rule matches is hidden if its category is sensitive and exact otherwise.

Snapping is to a fixed grid (square cells in EPSG:6933, equal-area metres, anchored at the
projection's origin), never random jitter: the centre depends only on the true position and the
cell size, so a thousand pulls, any bbox, filter or format give the same point, and averaging
learns nothing. Filters (bbox, datetime, CQL2) run on the snapped point and the coarsened date,
never the true ones, so narrowing a query cannot locate a sighting inside its cell. Free text and
any attribute not on the whitelist are dropped; the time of day is dropped unless the position
is exact and there is no embargo.
"""

from __future__ import annotations

import math
import uuid

from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from server.core import audit
from server.core.errors import Invalid
from server.core.policy import Action, Actor, authorize
from server.partners.models import GeoprivacyRule
from server.reports.models import ReportCategory

GRID_SRID = 6933

# Report attributes a partner may see (counts, sex, age: nothing that names a place or a person).
SAFE_ATTRIBUTES = ("count", "calves", "sex", "age_class", "scientific_name")


def snapped(geom: str, cell: str) -> str:
    """SQL: the centre of the `cell`-metre grid cell holding `geom` (its point on surface)."""
    p = f"ST_Transform(ST_PointOnSurface({geom}), {GRID_SRID})"
    return (
        f"ST_Transform(ST_SetSRID(ST_MakePoint("
        f"(floor(ST_X({p}) / {cell}) + 0.5) * {cell}, "
        f"(floor(ST_Y({p}) / {cell}) + 0.5) * {cell}), {GRID_SRID}), 4326)"
    )


def uncertainty_m(cell_m: int | None) -> float | None:
    """Coordinate uncertainty of a snapped point: the cell's half-diagonal."""
    return None if cell_m is None else round(cell_m * math.sqrt(2) / 2, 1)


def uncertainty_sql(cell: str) -> str:
    """SQL: `uncertainty_m` of a cell size column (NULL for exact positions)."""
    return f"round(({cell} * sqrt(2) / 2)::numeric, 1)::float"


_ATTRIBUTES = (
    "jsonb_strip_nulls(jsonb_build_object("
    + ", ".join(f"'{a}', r.attributes -> '{a}'" for a in SAFE_ATTRIBUTES)
    + "))"
)

# The partner view of the reports of :areas. Columns: id, area_id, category, category_label,
# species, attributes (whitelisted), geom (snapped or exact, EPSG:4326), cell_m, observed_at
# (NULL unless exact and not embargoed), observed_on (local date), t (what datetime filters see).
OBSERVATIONS = f"""
    SELECT r.id, r.area_id, c.key AS category, c.label AS category_label,
           nullif(lower(btrim(r.attributes ->> 'species')), '') AS species,
           {_ATTRIBUTES} AS attributes,
           CASE WHEN rule.cell_m IS NULL THEN r.geom ELSE {snapped("r.geom", "rule.cell_m")} END
               AS geom,
           rule.cell_m,
           CASE WHEN rule.cell_m IS NULL AND rule.embargo_days = 0 THEN r.observed_at END
               AS observed_at,
           (r.observed_at AT TIME ZONE a.timezone)::date AS observed_on,
           CASE WHEN rule.cell_m IS NULL AND rule.embargo_days = 0 THEN r.observed_at
                ELSE ((r.observed_at AT TIME ZONE a.timezone)::date)::timestamp
                     AT TIME ZONE a.timezone END AS t
    FROM reports r
    JOIN report_categories c ON c.id = r.category_id
    JOIN areas a ON a.id = r.area_id
    CROSS JOIN LATERAL (
        SELECT bool_or(g.visibility = 'hidden') AS hidden,
               max(g.cell_m) FILTER (WHERE g.visibility = 'snapped') AS cell_m,
               coalesce(max(g.embargo_days), 0) AS embargo_days
        FROM geoprivacy_rules g LEFT JOIN report_categories gc ON gc.id = g.category_id
        WHERE g.area_id = r.area_id
          AND (g.category_id IS NULL OR gc.key = c.key OR c.key LIKE gc.key || '.%')
          AND (g.species IS NULL OR g.species = lower(btrim(r.attributes ->> 'species')))
    ) rule
    WHERE r.area_id = ANY(:areas) AND r.status <> 'rejected'
      AND NOT coalesce(rule.hidden, c.sensitive)
      AND r.observed_at <= now() - make_interval(days => rule.embargo_days)"""


def rules(session: Session, actor: Actor, area_id: uuid.UUID) -> list[dict]:
    authorize(actor, Action.PARTNER_MANAGE, area_id, "area")
    rows = session.execute(
        select(GeoprivacyRule, ReportCategory.key)
        .outerjoin(ReportCategory, ReportCategory.id == GeoprivacyRule.category_id)
        .where(GeoprivacyRule.area_id == area_id)
        .order_by(ReportCategory.key.nulls_first(), GeoprivacyRule.species.nulls_first())
    )
    return [
        {
            "category": key,
            "species": rule.species,
            "visibility": rule.visibility,
            "cell_m": rule.cell_m,
            "embargo_days": rule.embargo_days,
        }
        for rule, key in rows
    ]


def set_rules(session: Session, actor: Actor, area_id: uuid.UUID, new: list[dict]) -> list[dict]:
    """Replace the area's rules with `new` (each: category key or None, species or None,
    visibility, cell_m when snapped, embargo_days)."""
    authorize(actor, Action.PARTNER_MANAGE, area_id, "area")
    categories = dict(session.execute(select(ReportCategory.key, ReportCategory.id)).all())
    rows, seen = [], set()
    for i, rule in enumerate(new):
        key, species = rule.get("category"), rule.get("species")
        species = species.strip().lower() if species else None
        where = f"rules/{i}"
        if key is not None and key not in categories:
            raise Invalid(f"no category {key!r}", errors={f"{where}/category": ["unknown"]})
        if (key, species) in seen:
            raise Invalid("two rules for the same target", errors={where: ["duplicate"]})
        seen.add((key, species))
        visibility, cell_m = rule["visibility"], rule.get("cell_m")
        if (visibility == "snapped") != (cell_m is not None):
            raise Invalid(
                "a snapped rule needs cell_m, and only a snapped one",
                errors={f"{where}/cell_m": ["required when snapped, else not allowed"]},
            )
        rows.append(
            GeoprivacyRule(
                area_id=area_id,
                category_id=categories.get(key),
                species=species,
                visibility=visibility,
                cell_m=cell_m,
                embargo_days=rule.get("embargo_days", 0),
            )
        )
    session.execute(delete(GeoprivacyRule).where(GeoprivacyRule.area_id == area_id))
    session.add_all(rows)
    session.flush()
    audit.record(
        session, actor, "geoprivacy.set", "area", area_id, area_id=area_id, rules=len(rows)
    )
    return rules(session, actor, area_id)


def observations(session: Session, actor: Actor, area_id: uuid.UUID) -> list[dict]:
    """Every report of the area as partners see it (GeoJSON geometry)."""
    authorize(actor, Action.PARTNER_FEATURES, area_id, "area")
    rows = session.execute(
        text(
            f"SELECT o.*, ST_AsGeoJSON(o.geom, 7)::json AS geometry"
            f" FROM ({OBSERVATIONS}) o ORDER BY o.id"
        ),
        {"areas": [area_id]},
    ).mappings()
    return [{k: v for k, v in r.items() if k != "geom"} for r in rows]
