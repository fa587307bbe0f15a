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
                SELECT rs_track_line(ST_MakeLine(geom ORDER BY seq)) AS line,
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


def append_figures(
    session: Session,
    patrol_id: uuid.UUID,
    previous_max_seq: int | None,
    added: int,
    new_max_seq: int,
) -> None:
    """Fixes were appended after `previous_max_seq`: extend the line and the figures by the new
    steps only — the cost follows the new fixes, not the patrol's history."""
    session.execute(
        text(
            """
            WITH fixes AS (
                SELECT seq, geom, recorded_at,
                       lag(geom) OVER w AS prev_geom, lag(recorded_at) OVER w AS prev_at
                FROM track_points
                WHERE patrol_id = :patrol AND seq >= coalesce(:previous, -1)
                WINDOW w AS (ORDER BY seq)
            ), steps AS (
                SELECT ST_Distance(geom::geography, prev_geom::geography) AS metres,
                       extract(epoch FROM recorded_at - prev_at) AS seconds
                FROM fixes WHERE prev_geom IS NOT NULL
            ), added AS (
                SELECT coalesce(sum(metres), 0) AS distance,
                       coalesce(sum(seconds) FILTER (
                           WHERE seconds > 0 AND metres / seconds >= :moving), 0) AS moving
                FROM steps
            ), tail AS (
                SELECT array_agg(geom ORDER BY seq) AS points, max(recorded_at) AS last_at
                FROM fixes WHERE seq > coalesce(:previous, -1)
            ), head AS (
                SELECT recorded_at AS first_at, geom AS first_geom
                FROM track_points WHERE patrol_id = :patrol ORDER BY seq LIMIT 1
            )
            UPDATE patrols p SET
                line = rs_track_line(ST_MakeLine(
                    coalesce(ARRAY[coalesce(p.line, head.first_geom)], ARRAY[]::geometry[])
                    || tail.points)),
                distance_m = p.distance_m + added.distance,
                moving_s = p.moving_s + added.moving,
                duration_s = extract(epoch FROM tail.last_at - head.first_at),
                point_count = p.point_count + :added,
                max_seq = :new_max,
                updated_at = now()
            FROM added, tail, head
            WHERE p.id = :patrol
            """
        ),
        {
            "patrol": patrol_id,
            "previous": previous_max_seq,
            "added": added,
            "new_max": new_max_seq,
            "moving": MOVING_SPEED_MPS,
        },
    )
