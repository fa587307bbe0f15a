"""What patrols do: derive each patrol's line and effort figures from its fixes."""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.orm import Session

# Below this speed between two fixes the team counts as standing still (GPS jitter included).
MOVING_SPEED_MPS = 0.3


def derive_figures(session: Session, patrol_id: uuid.UUID) -> None:
    """Recompute the patrol's line, geodesic distance, duration and moving time, set-based."""
    session.execute(
        text(
            """
            WITH fixes AS (
                SELECT geom, recorded_at,
                       lag(geom) OVER w AS prev_geom, lag(recorded_at) OVER w AS prev_at
                FROM track_points WHERE patrol_id = :patrol
                WINDOW w AS (ORDER BY seq)
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
                SELECT CASE WHEN count(*) > 1 THEN ST_MakeLine(geom ORDER BY seq) END AS line,
                       extract(epoch FROM max(recorded_at) - min(recorded_at)) AS duration,
                       count(*) AS n
                FROM track_points WHERE patrol_id = :patrol
            )
            UPDATE patrols p SET
                line = line.line, distance_m = figures.distance, moving_s = figures.moving,
                duration_s = coalesce(line.duration, 0), point_count = line.n,
                updated_at = now()
            FROM figures, line
            WHERE p.id = :patrol
            """
        ),
        {"patrol": patrol_id, "moving": MOVING_SPEED_MPS},
    )
