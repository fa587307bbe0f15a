"""Track cleaning and the derived tables kept current as fixes arrive.

A fix is *flagged* (excluded from every figure, never deleted) when
- its reported accuracy is worse than MAX_ACCURACY_M (`poor_accuracy`), or
- it is a spike: among the fixes of good accuracy, in time order, the speed from the previous
  fix and the speed to the next are both beyond what the leg's transport allows (an end fix with
  one neighbour: that one speed) (`impossible_speed`).
"In time order" is by time, then by the device's sequence number for fixes with the same time:
the fixes' identity is their sequence number, but logs are not always in time order (units
that write late, merged downloads), and every figure is that of the same fixes sorted.
Steps join consecutive clean fixes; a step's distance (geodesic, WGS 84) and time count in the
grid cell and the (area-local) day of the fix it starts from, and in the zones that fix lies in.

The grid is square cells of `cell_m` metres in EPSG:6933 (WGS 84 / EASE-Grid 2.0, a global
equal-area projection): cell (i, j) = (floor(x / cell_m), floor(y / cell_m)), the same numbering
as PostGIS's ST_SquareGrid, so every cell has the same ground area wherever the park is and
coverage percentages are fair between the north and south of a park.

`refresh_patrols` re-derives the rows of the patrols whose fixes just arrived, in one statement:
upserts their (cell, day), (zone, day) and effort rows and deletes the ones no longer produced.
Its cost follows the fixes of those patrols, never the area's history; and as a patrol's chunks
are already serialised by its row lock, concurrent pushes of different patrols never contend.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.orm import Session

from server.analytics.models import DEFAULT_CELL_M
from server.patrols.service import MOVING_SPEED_MPS

MAX_ACCURACY_M = 50.0
# Fastest believable speed per means of transport (m/s); anything faster is a GPS jump.
MAX_SPEED_MPS = {"foot": 7.0, "vehicle": 40.0, "boat": 25.0, "aerial": 120.0}
GRID_SRID = 6933

# Every fix of the selected patrols with its flag; clean fixes carry their cell, day and the step
# to the next clean fix. `{where}` selects patrols (a fixed string chosen by the caller).
FIXES_SQL = """
    WITH fx AS (
        SELECT t.patrol_id, t.seq, t.recorded_at, t.geom, t.accuracy_m, p.area_id,
               coalesce(l.patrol_type, p.patrol_type) AS transport, a.timezone,
               coalesce(s.cell_m, :default_cell) AS cell_m
        FROM track_points t
        JOIN patrols p ON p.id = t.patrol_id AND p.track_month = t.track_month
        JOIN areas a ON a.id = p.area_id
        LEFT JOIN coverage_settings s ON s.area_id = p.area_id
        LEFT JOIN patrol_legs l ON l.id = t.leg_id
        WHERE {where}
    ), good AS (
        SELECT fx.*, lag(geom) OVER w AS g_prev, lag(recorded_at) OVER w AS t_prev,
               lead(seq) OVER w AS next_good_seq
        FROM fx WHERE accuracy_m IS NULL OR accuracy_m <= :max_accuracy
        WINDOW w AS (PARTITION BY patrol_id ORDER BY recorded_at, seq)
    ), paired AS (
        SELECT good.*, ST_Distance(geom::geography, g_prev::geography) AS d_in,
               abs(extract(epoch FROM recorded_at - t_prev)::float8) AS dt_in
        FROM good
    ), speeds AS (
        -- each leg is measured once: a fix's outgoing leg is its successor's incoming one
        SELECT paired.*, d_in / greatest(dt_in, 1) AS v_in, lead(d_in) OVER w AS d_out,
               lead(d_in) OVER w / greatest(lead(dt_in) OVER w, 1) AS v_out,
               CASE transport WHEN 'vehicle' THEN :v_vehicle WHEN 'boat' THEN :v_boat
                              WHEN 'aerial' THEN :v_aerial ELSE :v_foot END AS v_max
        FROM paired WINDOW w AS (PARTITION BY patrol_id ORDER BY recorded_at, seq)
    ), clean AS (
        SELECT patrol_id, seq, recorded_at, geom, area_id, timezone, cell_m, next_good_seq, d_out,
               lead(geom) OVER c AS g_next, lead(recorded_at) OVER c AS t_next,
               lead(seq) OVER c AS next_clean_seq
        FROM speeds
        WHERE NOT (coalesce(v_in > v_max, true) AND coalesce(v_out > v_max, true)
                   AND (v_in IS NOT NULL OR v_out IS NOT NULL))
        WINDOW c AS (PARTITION BY patrol_id ORDER BY recorded_at, seq)
    ), steps AS (
        SELECT patrol_id, area_id, seq, recorded_at, geom, NULL::text AS flag,
               floor(ST_X(grid) / cell_m)::int AS i, floor(ST_Y(grid) / cell_m)::int AS j,
               (recorded_at AT TIME ZONE timezone)::date AS day,
               CASE WHEN next_clean_seq IS NULL THEN 0
                    WHEN next_clean_seq = next_good_seq THEN d_out
                    ELSE ST_Distance(geom::geography, g_next::geography) END AS metres,
               coalesce(greatest(extract(epoch FROM t_next - recorded_at)::float8, 0), 0) AS seconds
        FROM clean CROSS JOIN LATERAL (SELECT ST_Transform(clean.geom, {srid}) AS grid) g
    ), fixes AS (
        SELECT patrol_id, area_id, seq, recorded_at, geom, flag, i, j, day, metres, seconds,
               CASE WHEN seconds > 0 AND metres / seconds >= :moving THEN seconds ELSE 0 END
                 AS moving
        FROM steps
        UNION ALL
        SELECT patrol_id, area_id, seq, recorded_at, geom, 'poor_accuracy', NULL, NULL, NULL,
               NULL, NULL, NULL
        FROM fx WHERE accuracy_m > :max_accuracy
        UNION ALL
        SELECT s.patrol_id, s.area_id, s.seq, s.recorded_at, s.geom, 'impossible_speed', NULL,
               NULL, NULL, NULL, NULL, NULL
        FROM speeds s
        WHERE coalesce(v_in > v_max, true) AND coalesce(v_out > v_max, true)
              AND (v_in IS NOT NULL OR v_out IS NOT NULL)
    )
"""

REFRESH_SQL = (
    FIXES_SQL
    + """
    , cells AS (
        SELECT patrol_id, i, j, day, min(area_id::text)::uuid AS area_id, count(*) AS fixes,
               sum(metres) AS distance_m, sum(seconds) AS seconds, sum(moving) AS moving_s
        FROM fixes WHERE flag IS NULL GROUP BY patrol_id, i, j, day
    ), zoned AS (
        SELECT f.patrol_id, z.id AS zone_id, f.day, min(f.area_id::text)::uuid AS area_id,
               count(*) AS fixes, sum(f.metres) AS distance_m, sum(f.seconds) AS seconds
        FROM fixes f JOIN zones z
          ON z.area_id = f.area_id AND z.deleted_at IS NULL AND ST_Intersects(z.geom, f.geom)
        WHERE f.flag IS NULL GROUP BY f.patrol_id, z.id, f.day
    ), effort AS (
        SELECT patrol_id, min(area_id::text)::uuid AS area_id, count(*) AS fixes,
               count(*) FILTER (WHERE flag = 'poor_accuracy') AS poor_accuracy,
               count(*) FILTER (WHERE flag = 'impossible_speed') AS impossible_speed,
               count(*) FILTER (WHERE flag IS NULL)::float8 / count(*) AS quality,
               coalesce(sum(metres), 0) AS distance_m,
               coalesce(extract(epoch FROM max(recorded_at) FILTER (WHERE flag IS NULL)
                                - min(recorded_at) FILTER (WHERE flag IS NULL)), 0) AS duration_s,
               coalesce(sum(moving), 0) AS moving_s,
               min(recorded_at) FILTER (WHERE flag IS NULL) AS first_at,
               max(recorded_at) FILTER (WHERE flag IS NULL) AS last_at
        FROM fixes GROUP BY patrol_id
    ), put_cells AS (
        INSERT INTO coverage_visits AS v
            (patrol_id, i, j, day, area_id, fixes, distance_m, seconds, moving_s)
        SELECT patrol_id, i, j, day, area_id, fixes, distance_m, seconds, moving_s FROM cells
        ON CONFLICT (patrol_id, i, j, day) DO UPDATE SET
            fixes = excluded.fixes, distance_m = excluded.distance_m,
            seconds = excluded.seconds, moving_s = excluded.moving_s
        RETURNING 1
    ), drop_cells AS (
        DELETE FROM coverage_visits v
        WHERE v.patrol_id IN (SELECT id FROM scope)
          AND NOT EXISTS (SELECT 1 FROM cells c WHERE (c.patrol_id, c.i, c.j, c.day)
                                                      = (v.patrol_id, v.i, v.j, v.day))
        RETURNING 1
    ), put_zones AS (
        INSERT INTO zone_visits AS v (patrol_id, zone_id, day, area_id, fixes, distance_m, seconds)
        SELECT patrol_id, zone_id, day, area_id, fixes, distance_m, seconds FROM zoned
        ON CONFLICT (patrol_id, zone_id, day) DO UPDATE SET
            fixes = excluded.fixes, distance_m = excluded.distance_m, seconds = excluded.seconds
        RETURNING 1
    ), drop_zones AS (
        DELETE FROM zone_visits v
        WHERE v.patrol_id IN (SELECT id FROM scope)
          AND NOT EXISTS (SELECT 1 FROM zoned z WHERE (z.patrol_id, z.zone_id, z.day)
                                                      = (v.patrol_id, v.zone_id, v.day))
        RETURNING 1
    )
    INSERT INTO patrol_effort AS e (patrol_id, area_id, fixes, poor_accuracy, impossible_speed,
                                    quality, distance_m, duration_s, moving_s, first_at, last_at,
                                    computed_at)
    SELECT effort.*, now() FROM effort
    ON CONFLICT (patrol_id) DO UPDATE SET
        fixes = excluded.fixes, poor_accuracy = excluded.poor_accuracy,
        impossible_speed = excluded.impossible_speed, quality = excluded.quality,
        distance_m = excluded.distance_m, duration_s = excluded.duration_s,
        moving_s = excluded.moving_s, first_at = excluded.first_at, last_at = excluded.last_at,
        computed_at = now()
"""
)

BY_PATROLS = "t.patrol_id = ANY(CAST(:patrols AS uuid[]))"
BY_AREA = "p.area_id = :area"
SCOPE_BY_PATROLS = "SELECT unnest(CAST(:patrols AS uuid[])) AS id"
SCOPE_BY_AREA = "SELECT id FROM patrols WHERE area_id = :area"


def parameters(**extra) -> dict:
    return {
        "default_cell": DEFAULT_CELL_M,
        "max_accuracy": MAX_ACCURACY_M,
        "v_foot": MAX_SPEED_MPS["foot"],
        "v_vehicle": MAX_SPEED_MPS["vehicle"],
        "v_boat": MAX_SPEED_MPS["boat"],
        "v_aerial": MAX_SPEED_MPS["aerial"],
        "moving": MOVING_SPEED_MPS,
        **extra,
    }


CTE_NAMES = re.compile(r"\b(fx|good|paired|speeds|clean|steps|fixes)\b")


def fixes_query(where: str, prefix: str = "") -> str:
    """The cleaned fixes as a WITH clause ending in `fixes` (`{prefix}fixes`, its CTEs renamed
    alike, so that two such chains can share one statement): for the incremental upkeep and
    the benchmark's on-the-fly reference."""
    sql = FIXES_SQL.format(where=where, srid=GRID_SRID)
    return CTE_NAMES.sub(lambda m: prefix + m.group(1), sql) if prefix else sql


def _refresh(session: Session, where: str, scope: str, params: dict) -> None:
    sql = REFRESH_SQL.format(where=where, srid=GRID_SRID)
    sql = sql.replace("WITH fx AS", f"WITH scope AS ({scope}), fx AS", 1)
    session.execute(text(sql), parameters(**params))


def refresh_patrols(session: Session, patrol_ids: Iterable[uuid.UUID]) -> None:
    """Fixes of these patrols arrived: bring their coverage, zone and effort rows up to date.

    Called by track ingest inside its transaction, after it authorised the device; no actor."""
    ids = sorted({str(p) for p in patrol_ids})
    if ids:
        _refresh(session, BY_PATROLS, SCOPE_BY_PATROLS, {"patrols": ids})


def refresh_area(session: Session, area_id: uuid.UUID) -> None:
    """Every patrol of an area from scratch: after the grid size or the zones changed."""
    _refresh(session, BY_AREA, SCOPE_BY_AREA, {"area": area_id})
