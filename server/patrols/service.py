"""What patrols do: derive each patrol's line and effort figures from its fixes.

Fixes are taken in time order (then by sequence number for fixes with the same time): a log
whose times go back now and then gives the line and figures of the same fixes sorted."""

from __future__ import annotations

import uuid
from datetime import datetime

import numpy as np
import shapely
from pyproj import Geod
from shapely.geometry import LineString
from sqlalchemy import text
from sqlalchemy.orm import Session

# Below this speed between two fixes the team counts as standing still (GPS jitter included).
MOVING_SPEED_MPS = 0.3
GEOD = Geod(ellps="WGS84")


def derive_figures(session: Session, patrol_id: uuid.UUID) -> None:
    """Recompute the patrol's line, geodesic distance, duration and moving time, set-based."""
    session.execute(
        text(
            """
            WITH fixes AS (
                SELECT geom, recorded_at,
                       lag(geom) OVER w AS prev_geom, lag(recorded_at) OVER w AS prev_at
                FROM track_points WHERE patrol_id = :patrol
                WINDOW w AS (ORDER BY recorded_at, seq)
            ), steps AS (
                SELECT ST_Distance(geom::geography, prev_geom::geography) AS metres,
                       extract(epoch FROM recorded_at - prev_at) AS seconds
                FROM fixes WHERE prev_geom IS NOT NULL
            ), figures AS (
                SELECT coalesce(sum(metres), 0) AS distance,
                       coalesce(sum(seconds) FILTER (
                           WHERE seconds > 0 AND metres / seconds >= :moving), 0) AS moving
                FROM steps
            ), line AS (
                SELECT rs_track_line(ST_MakeLine(geom ORDER BY recorded_at, seq)) AS line,
                       extract(epoch FROM max(recorded_at) - min(recorded_at)) AS duration,
                       count(*) AS n, max(seq) AS max_seq
                FROM track_points WHERE patrol_id = :patrol
            )
            UPDATE patrols p SET
                line = line.line, distance_m = figures.distance, moving_s = figures.moving,
                duration_s = coalesce(line.duration, 0), point_count = line.n,
                max_seq = line.max_seq, updated_at = now()
            FROM figures, line
            WHERE p.id = :patrol
            """
        ),
        {"patrol": patrol_id, "moving": MOVING_SPEED_MPS},
    )


def step_figures(lon: np.ndarray, lat: np.ndarray, seconds: np.ndarray) -> tuple[float, float]:
    """Geodesic distance and moving time over consecutive fixes (arrays in fix order)."""
    if len(lon) < 2:
        return 0.0, 0.0
    _, _, metres = GEOD.inv(lon[:-1], lat[:-1], lon[1:], lat[1:])
    dt = np.diff(seconds)
    with np.errstate(divide="ignore", invalid="ignore"):
        moving = (dt > 0) & (metres / dt >= MOVING_SPEED_MPS)
    return float(np.sum(metres)), float(np.sum(dt[moving]))


def append_figures(
    session: Session,
    patrol_id: uuid.UUID,
    lon: np.ndarray,
    lat: np.ndarray,
    seconds: np.ndarray,
    *,
    added: int,
    new_max_seq: int,
    last_at: datetime,
) -> None:
    """Fixes were appended after the patrol's last one in time (which, if any, leads the arrays):
    extend the line and the figures by the new steps only."""
    distance, moving = step_figures(lon, lat, seconds)
    tail = shapely.to_wkb(LineString(np.column_stack((lon, lat)))) if len(lon) > 1 else None
    session.execute(
        text(
            """
            UPDATE patrols p SET
                line = CASE
                    WHEN CAST(:tail AS bytea) IS NULL THEN p.line
                    WHEN p.line IS NULL THEN rs_track_line(ST_GeomFromWKB(:tail, 4326))
                    ELSE rs_track_line(ST_MakeLine(p.line, ST_GeomFromWKB(:tail, 4326)))
                END,
                distance_m = p.distance_m + :distance,
                moving_s = p.moving_s + :moving,
                duration_s = extract(epoch FROM CAST(:last_at AS timestamptz) - (
                    SELECT recorded_at FROM track_points
                    WHERE patrol_id = p.id AND track_month = p.track_month
                    ORDER BY recorded_at, seq LIMIT 1)),
                point_count = p.point_count + :added,
                max_seq = greatest(p.max_seq, :new_max),
                updated_at = now()
            WHERE p.id = :patrol
            """
        ),
        {
            "patrol": patrol_id,
            "tail": tail,
            "distance": distance,
            "moving": moving,
            "last_at": last_at,
            "added": added,
            "new_max": new_max_seq,
        },
    )
