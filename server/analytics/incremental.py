"""Keeping coverage, hours per zone and effort current as a chunk of fixes arrives, at a cost that
follows the chunk, not the patrol's or the area's history.

The usual case is a chunk that extends its patrol (every fix new, all after the last stored one).
Appending fixes can change only two old contributions: the last good-accuracy fix A (it gains a
next neighbour, so its spike verdict may flip) and the last clean fix B before A (its step now
leads to A or to a new fix). Every fix before B keeps its verdict (its neighbours are unchanged)
and its step (the next clean fix after it is at or before B). So the delta is: the contributions
of the fixes from B on, computed without the new fixes (subtracted) and with them (added), each
run over the fixes from R, the good fix before B, so that B's verdict sees its real neighbour.

Anything else — fixes arriving out of order, overlapping chunks, a patrol's first chunk, or a
run of more than TAIL flagged fixes at the end — re-derives the patrol (tracks.refresh_patrols),
which costs the patrol's fixes. Both give the same rows; tests/server/analytics/test_incremental.py
checks it against a full recomputation after random arrival orders.
"""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.orm import Session

from server.analytics import tracks

TAIL = 12  # good-accuracy fixes looked at to find B

FIND_B = """
    WITH g AS (
        SELECT t.seq, t.geom, t.recorded_at, coalesce(l.patrol_type, p.patrol_type) AS transport
        FROM track_points t
        JOIN patrols p ON p.id = t.patrol_id AND p.track_month = t.track_month
        LEFT JOIN patrol_legs l ON l.id = t.leg_id
        WHERE t.patrol_id = :patrol AND t.seq <= :previous_max
          AND (t.accuracy_m IS NULL OR t.accuracy_m <= :max_accuracy)
        ORDER BY t.seq DESC LIMIT :tail
    ), n AS (
        SELECT g.*, lag(geom) OVER w AS g_prev, lag(recorded_at) OVER w AS t_prev,
               lead(geom) OVER w AS g_next, lead(recorded_at) OVER w AS t_next,
               lag(seq) OVER w AS prev_seq, row_number() OVER w AS k, count(*) OVER () AS total,
               max(seq) OVER () AS a_seq
        FROM g WINDOW w AS (ORDER BY seq)
    ), v AS (
        SELECT seq, prev_seq, k, total, a_seq,
               ST_Distance(geom::geography, g_prev::geography)
                 / greatest(abs(extract(epoch FROM recorded_at - t_prev)), 1) AS v_in,
               ST_Distance(geom::geography, g_next::geography)
                 / greatest(abs(extract(epoch FROM t_next - recorded_at)), 1) AS v_out,
               CASE transport WHEN 'vehicle' THEN :v_vehicle WHEN 'boat' THEN :v_boat
                              WHEN 'aerial' THEN :v_aerial ELSE :v_foot END AS v_max
        FROM n
    )
    SELECT seq AS b, coalesce(prev_seq, seq) AS r FROM v
    WHERE seq < a_seq AND (k > 1 OR total < :tail)
      AND NOT (coalesce(v_in > v_max, true) AND coalesce(v_out > v_max, true)
               AND (v_in IS NOT NULL OR v_out IS NOT NULL))
    ORDER BY seq DESC LIMIT 1
"""

# Contributions from B on without the new fixes (-1) and with them (+1), in one statement.
APPLY = """
    , d AS (
        SELECT -1 AS sign, * FROM before_fixes WHERE seq >= :b
        UNION ALL
        SELECT 1, * FROM after_fixes WHERE seq >= :b
    ),
    cells AS (
        SELECT patrol_id, i, j, day, min(area_id::text)::uuid AS area_id, sum(sign) AS fixes,
               sum(sign * metres) AS distance_m, sum(sign * seconds) AS seconds,
               sum(sign * moving) AS moving_s
        FROM d WHERE flag IS NULL GROUP BY patrol_id, i, j, day
    ), put_cells AS (
        INSERT INTO coverage_visits AS v
            (patrol_id, i, j, day, area_id, fixes, distance_m, seconds, moving_s)
        SELECT patrol_id, i, j, day, area_id, fixes, distance_m, seconds, moving_s FROM cells
        ON CONFLICT (patrol_id, i, j, day) DO UPDATE SET
            fixes = v.fixes + excluded.fixes, distance_m = v.distance_m + excluded.distance_m,
            seconds = v.seconds + excluded.seconds, moving_s = v.moving_s + excluded.moving_s
        RETURNING 1
    ), zoned AS (
        SELECT d.patrol_id, z.id AS zone_id, d.day, min(d.area_id::text)::uuid AS area_id,
               sum(sign) AS fixes, sum(sign * d.metres) AS distance_m,
               sum(sign * d.seconds) AS seconds
        FROM d JOIN zones z
          ON z.area_id = d.area_id AND z.deleted_at IS NULL AND ST_Intersects(z.geom, d.geom)
        WHERE d.flag IS NULL GROUP BY d.patrol_id, z.id, d.day
    ), put_zones AS (
        INSERT INTO zone_visits AS v (patrol_id, zone_id, day, area_id, fixes, distance_m, seconds)
        SELECT patrol_id, zone_id, day, area_id, fixes, distance_m, seconds FROM zoned
        ON CONFLICT (patrol_id, zone_id, day) DO UPDATE SET
            fixes = v.fixes + excluded.fixes, distance_m = v.distance_m + excluded.distance_m,
            seconds = v.seconds + excluded.seconds
        RETURNING 1
    ), delta AS (
        SELECT sum(sign) AS fixes,
               coalesce(sum(sign) FILTER (WHERE flag = 'poor_accuracy'), 0) AS poor,
               coalesce(sum(sign) FILTER (WHERE flag = 'impossible_speed'), 0) AS jumps,
               coalesce(sum(sign * metres) FILTER (WHERE flag IS NULL), 0) AS distance_m,
               coalesce(sum(sign * moving) FILTER (WHERE flag IS NULL), 0) AS moving_s,
               max(recorded_at) FILTER (WHERE sign = 1 AND flag IS NULL) AS last_at
        FROM d
    )
    UPDATE patrol_effort e SET
        fixes = e.fixes + delta.fixes,
        poor_accuracy = e.poor_accuracy + delta.poor,
        impossible_speed = e.impossible_speed + delta.jumps,
        quality = (e.fixes + delta.fixes - e.poor_accuracy - delta.poor - e.impossible_speed
                   - delta.jumps)::float8 / (e.fixes + delta.fixes),
        distance_m = e.distance_m + delta.distance_m,
        moving_s = e.moving_s + delta.moving_s,
        last_at = delta.last_at,
        duration_s = extract(epoch FROM delta.last_at - e.first_at),
        computed_at = now()
    FROM delta
    WHERE e.patrol_id = :patrol
"""


def fixes_arrived(
    session: Session,
    patrol_id: uuid.UUID,
    *,
    first_seq: int,
    all_new: bool,
    previous_max: int | None,
) -> None:
    """Track ingest stored fixes of this patrol (from `first_seq`; `all_new` when none of the
    chunk was there before; `previous_max`: the patrol's last sequence number before)."""
    appended = all_new and previous_max is not None and first_seq > previous_max
    if appended and _append(session, patrol_id, previous_max):
        return
    tracks.refresh_patrols(session, [patrol_id])


def _append(session: Session, patrol_id: uuid.UUID, previous_max: int) -> bool:
    has_effort = session.execute(
        text("SELECT first_at IS NOT NULL FROM patrol_effort WHERE patrol_id = :p"),
        {"p": patrol_id},
    ).scalar()
    if not has_effort:
        return False
    params = tracks.parameters(patrol=patrol_id, previous_max=previous_max, tail=TAIL)
    found = session.execute(text(FIND_B), params).one_or_none()
    if found is None:
        return False
    params |= {"b": found.b, "r": found.r}
    before = tracks.fixes_query(
        "t.patrol_id = :patrol AND t.seq BETWEEN :r AND :previous_max", prefix="before_"
    )
    after = tracks.fixes_query("t.patrol_id = :patrol AND t.seq >= :r", prefix="after_")
    # Per-cell counts only grow here (A cannot turn from clean to spike: its incoming speed was
    # already possible), so no row of the patrol empties and none needs deleting.
    session.execute(text(before + after.replace("WITH", ",", 1) + APPLY), params)
    return True
