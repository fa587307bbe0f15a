"""Coverage of an area over a period, from the kept per patrol × cell × day rows: the share of the
area and of each zone visited, the cells with their effort, the gaps, and heatmap vector tiles."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from server.analytics import tracks
from server.analytics.common import Period, cell_size
from server.analytics.models import MAX_CELL_M, MIN_CELL_M, CoverageSetting
from server.core import audit
from server.core.db import utcnow
from server.core.errors import Invalid, TooLarge
from server.core.policy import Action, Actor, authorize

SRID = tracks.GRID_SRID
# The cells of a polygon (in the grid's projection): ST_SquareGrid numbers cells exactly as the
# tracks do, floor(x / size), so these join the kept rows on (i, j).
AREA_CELLS = f"""
    area_cells AS (
        SELECT g.i, g.j, g.geom
        FROM areas a, ST_Transform(a.boundary, {SRID}) AS b, ST_SquareGrid(:cell, b) AS g
        WHERE a.id = :area AND ST_Intersects(g.geom, b)
    )"""
VISITED = """
    visited AS (
        SELECT i, j, count(*) AS visits, count(DISTINCT patrol_id) AS patrols,
               sum(fixes) AS fixes, sum(distance_m) AS distance_m, sum(seconds) AS seconds,
               max(day) AS last_visit
        FROM coverage_visits
        WHERE area_id = :area AND day BETWEEN :start AND :end
        GROUP BY i, j
    )"""
# How many cells a request spans, from bounding boxes only (cheap, and never fewer than the cells
# the query would make): a request past the limit is refused before any cell is made.
SPAN = f"""
    SELECT coalesce(ceil((ST_XMax(e) - ST_XMin(e)) / :cell + 1)
                    * ceil((ST_YMax(e) - ST_YMin(e)) / :cell + 1), 0)
    FROM areas a, ST_Envelope(ST_Transform(a.boundary, {SRID})) AS b, Box2D({{clip}}) AS e
    WHERE a.id = :area"""
TILE_CLIP = f"ST_Intersection(b, ST_Envelope(ST_Transform(ST_TileEnvelope(:z, :x, :y), {SRID})))"
CELL_POLYGON = f"""ST_AsGeoJSON(ST_Transform(ST_MakeEnvelope(
    i * :cell, j * :cell, (i + 1) * :cell, (j + 1) * :cell, {SRID}), 4326), 7)::json"""


@dataclass(frozen=True)
class ZoneCoverage:
    zone_id: uuid.UUID
    name: str
    kind: str
    cells: int
    visited: int
    percent: float
    hours: float
    km: float


@dataclass(frozen=True)
class CoverageSummary:
    area_id: uuid.UUID
    start: date
    end: date
    cell_m: int
    cells: int
    visited: int
    percent: float
    visits: int
    hours: float
    km: float
    zones: list[ZoneCoverage]


def _params(session: Session, area_id: uuid.UUID, p: Period) -> dict:
    return {"area": area_id, "cell": cell_size(session, area_id), "start": p.start, "end": p.end}


def summary(session: Session, actor: Actor, area_id: uuid.UUID, p: Period) -> CoverageSummary:
    authorize(actor, Action.ANALYTICS_VIEW, area_id, "area")
    params = _params(session, area_id, p)
    row = session.execute(
        text(
            f"""WITH {AREA_CELLS}, {VISITED}
            SELECT (SELECT count(*) FROM area_cells) AS cells,
                   (SELECT count(*) FROM area_cells JOIN visited USING (i, j)) AS visited,
                   (SELECT coalesce(sum(visits), 0) FROM visited) AS visits,
                   (SELECT coalesce(sum(seconds), 0) / 3600 FROM visited) AS hours,
                   (SELECT coalesce(sum(distance_m), 0) / 1000 FROM visited) AS km"""
        ),
        params,
    ).one()
    zones = session.execute(
        text(
            f"""WITH {VISITED}
            SELECT z.id, z.name, z.kind, count(*) AS cells, count(v.i) AS visited,
                   coalesce((SELECT sum(seconds) / 3600 FROM zone_visits zv WHERE zv.zone_id = z.id
                             AND zv.day BETWEEN :start AND :end), 0) AS hours,
                   coalesce((SELECT sum(distance_m) / 1000 FROM zone_visits zv
                             WHERE zv.zone_id = z.id AND zv.day BETWEEN :start AND :end), 0) AS km
            FROM zones z, ST_Transform(z.geom, {SRID}) AS b, ST_SquareGrid(:cell, b) AS g
            LEFT JOIN visited v ON v.i = g.i AND v.j = g.j
            WHERE z.area_id = :area AND z.deleted_at IS NULL AND ST_Intersects(g.geom, b)
            GROUP BY z.id, z.name, z.kind ORDER BY z.name"""
        ),
        params,
    ).all()
    return CoverageSummary(
        area_id,
        p.start,
        p.end,
        params["cell"],
        row.cells,
        row.visited,
        _percent(row.visited, row.cells),
        row.visits,
        row.hours,
        row.km,
        [
            ZoneCoverage(
                z.id,
                z.name,
                z.kind,
                z.cells,
                z.visited,
                _percent(z.visited, z.cells),
                z.hours,
                z.km,
            )
            for z in zones
        ],
    )


def _percent(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 2) if whole else 0.0


def _bounded(params: dict, session: Session, max_cells: int, what: str) -> dict:
    """`params`, once the cells they span are known to be at most `max_cells` (else 422)."""
    clip = TILE_CLIP if "z" in params else "b"
    spanned = session.execute(text(SPAN.format(clip=clip)), params).scalar_one()
    if spanned > max_cells:
        raise TooLarge(
            f"{what} spans about {int(spanned):,} cells of {params['cell']} m; one answer holds at "
            f"most {max_cells:,}: ask for a smaller area (a map tile further in) or coarser cells",
            errors={"cell_m": [f"at most {max_cells} cells per answer"]},
            extra={"cells": int(spanned), "max_cells": max_cells},
        )
    return params


def cells(
    session: Session, actor: Actor, area_id: uuid.UUID, p: Period, max_cells: int
) -> list[dict]:
    """Every visited cell of the period with its effort (a cell may lie partly outside)."""
    authorize(actor, Action.ANALYTICS_VIEW, area_id, "area")
    params = _bounded(_params(session, area_id, p), session, max_cells, "the area")
    return [
        dict(r)
        for r in session.execute(
            text(
                f"""WITH {VISITED}
                SELECT i, j, visits, patrols, fixes, distance_m / 1000 AS km,
                       seconds / 3600 AS hours, last_visit, {CELL_POLYGON} AS geometry
                FROM visited ORDER BY i, j"""
            ),
            params,
        ).mappings()
    ]


def gaps(
    session: Session, actor: Actor, area_id: uuid.UUID, days: int, as_of: date, max_cells: int
) -> list[dict]:
    """Cells of the area no patrol visited in the `days` days up to `as_of`, with their last visit
    before that (None: never)."""
    authorize(actor, Action.ANALYTICS_VIEW, area_id, "area")
    p = Period(as_of - timedelta(days=days - 1), as_of)
    params = _bounded(_params(session, area_id, p), session, max_cells, "the area")
    return [
        dict(r)
        for r in session.execute(
            text(
                f"""WITH {AREA_CELLS}, {VISITED}
                SELECT c.i, c.j,
                       (SELECT max(day) FROM coverage_visits cv WHERE cv.area_id = :area
                        AND cv.i = c.i AND cv.j = c.j AND cv.day < :start) AS last_visit,
                       ST_AsGeoJSON(ST_Transform(c.geom, 4326), 7)::json AS geometry
                FROM area_cells c LEFT JOIN visited v USING (i, j)
                WHERE v.i IS NULL ORDER BY c.i, c.j"""
            ),
            params,
        ).mappings()
    ]


def tile(
    session: Session,
    actor: Actor,
    area_id: uuid.UUID,
    z: int,
    x: int,
    y: int,
    p: Period,
    max_cells: int,
) -> bytes:
    """A Mapbox Vector Tile (layer `coverage`) of the area's cells in this tile: visits, patrols,
    hours and km in the period; `gap` cells had no visit."""
    if not 0 <= z <= 22 or not (0 <= x < 2**z and 0 <= y < 2**z):
        raise Invalid(f"no tile {z}/{x}/{y}", errors={"z": ["0 to 22, x and y below 2^z"]})
    authorize(actor, Action.ANALYTICS_VIEW, area_id, "area")
    params = _params(session, area_id, p) | {"z": z, "x": x, "y": y}
    _bounded(params, session, max_cells, f"tile {z}/{x}/{y}")
    return session.execute(
        text(
            f"""WITH bounds AS (SELECT ST_TileEnvelope(:z, :x, :y) AS tile),
            area_cells AS (
                SELECT g.i, g.j, g.geom
                FROM areas a, bounds,
                     ST_Transform(a.boundary, {SRID}) AS b,
                     ST_Intersection(b, ST_Transform(bounds.tile, {SRID})) AS clip,
                     ST_SquareGrid(:cell, clip) AS g
                WHERE a.id = :area AND NOT ST_IsEmpty(clip) AND ST_Intersects(g.geom, b)
            ), {VISITED}
            SELECT coalesce(ST_AsMVT(t, 'coverage', 4096, 'geom'), '') FROM (
                SELECT c.i, c.j, coalesce(v.visits, 0) AS visits,
                       coalesce(v.patrols, 0) AS patrols,
                       round(coalesce(v.seconds, 0)::numeric / 3600, 2)::float8 AS hours,
                       round(coalesce(v.distance_m, 0)::numeric / 1000, 2)::float8 AS km,
                       v.i IS NULL AS gap,
                       ST_AsMVTGeom(ST_Transform(c.geom, 3857), bounds.tile) AS geom
                FROM area_cells c CROSS JOIN bounds LEFT JOIN visited v USING (i, j)
            ) t WHERE geom IS NOT NULL"""
        ),
        params,
    ).scalar_one()


def set_cell_size(session: Session, actor: Actor, area_id: uuid.UUID, cell_m: int) -> int:
    """Change the grid and recompute the area's coverage on it (managers; a set-based rebuild)."""
    authorize(actor, Action.MAP_EDIT, area_id, "area")
    if not MIN_CELL_M <= cell_m <= MAX_CELL_M:
        raise Invalid(
            f"cells are {MIN_CELL_M} to {MAX_CELL_M} m", errors={"cell_m": ["out of range"]}
        )
    setting = session.get(CoverageSetting, area_id, with_for_update=True)
    if setting is None:
        setting = CoverageSetting(area_id=area_id)
        session.add(setting)
    setting.cell_m = cell_m
    setting.updated_at = utcnow()
    session.flush()
    session.execute(text("DELETE FROM coverage_visits WHERE area_id = :a"), {"a": area_id})
    tracks.refresh_area(session, area_id)
    audit.record(
        session, actor, "coverage.cell_size", "area", area_id, area_id=area_id, cell_m=cell_m
    )
    return cell_m


def rebuild(session: Session, actor: Actor, area_id: uuid.UUID) -> None:
    """Recompute every derived table of the area from its fixes (after zones were edited)."""
    authorize(actor, Action.MAP_EDIT, area_id, "area")
    tracks.refresh_area(session, area_id)
