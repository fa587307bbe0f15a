"""Push handler for track chunks: vectorised checks, one set-based insert, incremental figures.

Per-fix marshmallow objects would cost several times what the database does, so a chunk's
columns are checked as arrays (numpy) and inserted in one INSERT … SELECT FROM unnest(…) with
ON CONFLICT DO NOTHING on (patrol, seq): a re-sent or overlapping chunk never duplicates a fix,
and fixes that arrive out of order are stored by sequence number all the same.

The sequence number is a fix's identity; its time is its place on the patrol's line. What is
derived from the fixes (line, distance, coverage, effort, movement rules) is not the push's work:
the push counts the fixes, notes the patrol in `derived_backlog` — whether every chunk extended
the patrol in time after its last fix, and which fix that was — and wakes the worker at commit
(NOTIFY), which derives after the answer, batched across pushes (server/sync/derived.py).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import numpy as np
from sqlalchemy import text

from server.patrols.models import Patrol
from server.sync.common import PushContext, Rejection, Verdict, keep_conflict
from server.sync.records import created
from sync.protocol import CONFLICT, MAX_POINTS_PER_CHUNK, STORED
from sync.protocol.tracks import MAX_STEP_S, MICRODEGREES, decode

MAX_ACCURACY_M = 100_000
MAX_SEQ = 2**53
MAX_STEP = 720 * MICRODEGREES

# The fixes counted at once (the figures follow in the worker); max_seq places the device
# (server.safety.rules.UPDATE_POSITION) before the line is drawn.
COUNT_FIXES = text(
    "UPDATE patrols SET point_count = point_count + :added,"
    " max_seq = greatest(max_seq, :max_seq), updated_at = now() WHERE id = :patrol"
)
# One statement for the push's patrols: a patrol already waiting keeps its starting fix, and
# stays incremental only if every chunk since extended it. The NOTIFY is sent at commit.
QUEUE_DERIVED = text(
    """
    WITH queued AS (
        INSERT INTO derived_backlog (area_id, patrol_id, extends, since_at, since_seq)
        SELECT :area, q.patrol, q.extends, q.since_at, q.since_seq
        FROM unnest(CAST(:patrols AS uuid[]), CAST(:extends AS boolean[]),
                    CAST(:since_at AS timestamptz[]), CAST(:since_seq AS bigint[]))
             AS q(patrol, extends, since_at, since_seq)
        ORDER BY q.patrol
        ON CONFLICT (area_id, patrol_id) DO UPDATE
        SET extends = derived_backlog.extends AND excluded.extends
        RETURNING 1
    )
    SELECT pg_notify('rangersync_derived', '') FROM (SELECT count(*) FROM queued) n
    """
)
DERIVED_CHANNEL = "rangersync_derived"

# Columns travel as PostgreSQL array literals built by str.join, which is many times faster than
# adapting each Python int; the sequence number is the chunk's first plus the row's ordinality.
INSERT_FIXES = text(
    """
        INSERT INTO track_points (patrol_id, seq, track_month, area_id, leg_id, device_time,
                                  recorded_at, geom, accuracy_m)
        SELECT :patrol, :first + s.i - 1, :month, :area, :leg,
               :t0 + make_interval(secs => s.sec), :t0_corrected + make_interval(secs => s.sec),
               ST_SetSRID(ST_MakePoint(s.lon / 1e6, s.lat / 1e6), 4326), s.acc
        FROM unnest(CAST(:lon AS bigint[]), CAST(:lat AS bigint[]), CAST(:sec AS bigint[]),
               CAST(:acc AS float8[])) WITH ORDINALITY AS s(lon, lat, sec, acc, i)
        ON CONFLICT (patrol_id, seq, track_month) DO NOTHING
    """
)
# Only when some fixes were already there: which of them are the same fix sent again.
COMPARE_FIXES = text(
    """
    SELECT count(*) FILTER (WHERE same) AS same, count(*) FILTER (WHERE NOT same) AS different
    FROM (
        SELECT ST_X(t.geom) = s.lon / 1e6 AND ST_Y(t.geom) = s.lat / 1e6
               AND t.device_time = :t0 + make_interval(secs => s.sec) AS same
        FROM unnest(CAST(:lon AS bigint[]), CAST(:lat AS bigint[]), CAST(:sec AS bigint[]),
               CAST(:acc AS float8[])) WITH ORDINALITY AS s(lon, lat, sec, acc, i)
        JOIN track_points t
          ON t.patrol_id = :patrol AND t.track_month = :month AND t.seq = :first + s.i - 1
    ) compared
    """
)
# The patrol's last fix in time order (ix_track_points_patrol_time makes it one index probe).
LAST_FIX = text(
    "SELECT ST_X(geom) AS lon, ST_Y(geom) AS lat, recorded_at, seq FROM track_points"
    " WHERE patrol_id = :patrol AND track_month = :month"
    " ORDER BY recorded_at DESC, seq DESC LIMIT 1"
)


class LastFix(NamedTuple):
    recorded_at: datetime
    seq: int


def _array(values: np.ndarray) -> str:
    return "{" + ",".join(map(str, values.tolist())) + "}"


def _accuracy_array(acc: np.ndarray | None, n: int) -> str:
    if acc is None:
        return "{" + ",".join(["NULL"] * n) + "}"
    return "{" + ",".join(map(str, acc.tolist())).replace("nan", "NULL") + "}"


def _integers(values: Any, pointer: str, length: int, allow_null: bool = False) -> np.ndarray:
    """A JSON array of integers, exactly; a float, a string, a boolean or a null is refused."""
    if not isinstance(values, list):
        raise Rejection("invalid-chunk", pointer, "must be an array of integers")
    if len(values) != length:
        raise Rejection("invalid-chunk", pointer, f"must have {length} items, has {len(values)}")
    allowed = {int, type(None)} if allow_null else {int}
    if not set(map(type, values)) <= allowed:  # exact types, at C speed: True is not 1 here
        i, value = next((i, v) for i, v in enumerate(values) if type(v) not in allowed)
        raise Rejection("invalid-chunk", f"{pointer}/{i}", f"must be an integer, got {value!r}")
    if allow_null:
        return np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    try:
        return np.array(values, dtype=np.int64)
    except OverflowError:
        raise Rejection("invalid-chunk", pointer, "a number is too large") from None


def _first_outside(values: np.ndarray, low: int, high: int) -> int | None:
    bad = np.flatnonzero((values < low) | (values > high))
    return int(bad[0]) if bad.size else None


def _checked_columns(ctx: PushContext, data: dict):
    dt = data["dt"]
    if not isinstance(dt, list):
        raise Rejection("invalid-chunk", "/data/dt", "must be an array of integers")
    n = len(dt) + 1
    if n > MAX_POINTS_PER_CHUNK:
        raise Rejection(
            "chunk-too-large",
            "/data/dt",
            f"{n} fixes; a chunk holds at most {MAX_POINTS_PER_CHUNK}",
        )
    dt_ = _integers(dt, "/data/dt", n - 1)
    ddlon = _integers(data["ddlon"], "/data/ddlon", n - 1)
    ddlat = _integers(data["ddlat"], "/data/ddlat", n - 1)
    acc = None if data["acc"] is None else _integers(data["acc"], "/data/acc", n, allow_null=True)
    if (i := _first_outside(dt_, -MAX_STEP_S, MAX_STEP_S)) is not None:
        raise Rejection(
            "invalid-chunk", f"/data/dt/{i}", "time between consecutive fixes beyond ±7 days"
        )
    if data["seq"] + n - 1 > MAX_SEQ:
        raise Rejection("invalid-chunk", "/data/seq", "sequence numbers beyond 2^53")
    if acc is not None and (i := _first_outside(np.nan_to_num(acc), 0, MAX_ACCURACY_M)) is not None:
        raise Rejection("invalid-chunk", f"/data/acc/{i}", "accuracy must be 0 to 100 000 m")
    # Bounded steps keep the running sums far from int64 overflow (numpy would wrap silently).
    for name, values in (("ddlon", ddlon), ("ddlat", ddlat)):
        if (i := _first_outside(values, -MAX_STEP, MAX_STEP)) is not None:
            raise Rejection("coordinate-out-of-range", f"/data/{name}/{i}", "step beyond ±720°")
    columns = decode(data["seq"], data["t0"], data["lon0"], data["lat0"], dt_, ddlon, ddlat)
    for name, values, limit in (("lon", columns.lon_e6, 180), ("lat", columns.lat_e6, 90)):
        if (i := _first_outside(values, -limit * MICRODEGREES, limit * MICRODEGREES)) is not None:
            where = f"/data/{name}0" if i == 0 else f"/data/dd{name}/{i - 1}"
            value = values[i] / MICRODEGREES
            raise Rejection(
                "coordinate-out-of-range", where, f"fix {i}: {name} {value} is outside ±{limit}"
            )
    # Times may go back: the earliest and the latest fix are the ones to check.
    for i in (int(np.argmin(columns.seconds)), int(np.argmax(columns.seconds))):
        pointer = f"/data/dt/{i - 1}" if i else "/data/t0"
        try:
            time = data["t0"] + timedelta(seconds=int(columns.seconds[i]))
        except OverflowError:
            raise Rejection(
                "time-out-of-range", pointer, "the fixes run beyond years 1-9999"
            ) from None
        ctx.check_satellite_time(time, pointer)
    return columns, acc


def store_chunk(
    ctx: PushContext, record_id: uuid.UUID, data: dict, digest: bytes, raw: Any
) -> Verdict:
    if verdict := created(ctx, "track_chunk", record_id, digest, raw):
        return verdict
    # Locked: a patrol's chunks are stored one push at a time (once per batch is enough).
    patrol = ctx.remembered(
        ("patrol-locked", data["patrol_id"]),
        lambda: ctx.session.get(Patrol, data["patrol_id"], with_for_update=True),
    )
    if patrol is None or patrol.area_id != ctx.area_id:
        raise Rejection(
            "unknown-patrol",
            "/data/patrol_id",
            "no such patrol in this area (send the patrol first)",
        )
    columns, acc = _checked_columns(ctx, data)
    n = len(columns)
    ctx.remembered(
        ("partition", patrol.track_month),
        lambda: ctx.session.execute(
            text("SELECT rs_ensure_track_partition(:month)"), {"month": patrol.track_month}
        ),
    )
    last = ctx.remembered(
        ("last-fix", patrol.id),
        lambda: ctx.session.execute(
            LAST_FIX, {"patrol": patrol.id, "month": patrol.track_month}
        ).one_or_none(),
    )
    params = {
        "lon": _array(columns.lon_e6),
        "lat": _array(columns.lat_e6),
        "sec": _array(columns.seconds),
        "acc": _accuracy_array(acc, n),
        "first": data["seq"],
        "patrol": patrol.id,
        "month": patrol.track_month,
        "area": ctx.area_id,
        "leg": data.get("leg_id"),
        "t0": data["t0"],
        # GPS fix times come from the satellites: kept as sent, whatever the device's clock
        # (recorded_at = device_time; see docs/sync-protocol.md, "Clocks").
        "t0_corrected": data["t0"],
    }
    new = ctx.session.execute(INSERT_FIXES, params).rowcount
    same, different = new, 0
    if new < n:
        compared = ctx.session.execute(COMPARE_FIXES, params).one()
        same, different = compared.same, compared.different
    # Does the chunk extend the patrol in time: every fix new, in time order, all after the last
    # stored one (by time, then sequence number: the order every figure is taken in)?
    extends = (
        new == n
        and bool(np.all(np.diff(columns.seconds) >= 0))
        and (last is None or (params["t0_corrected"], data["seq"]) > (last.recorded_at, last.seq))
    )
    # The patrol's last fix now, for its next chunk in this batch: this chunk's last if it
    # extended the patrol, else looked up again.
    ctx.memo.pop(("last-fix", patrol.id), None)
    if extends:
        ctx.remember(
            ("last-fix", patrol.id),
            LastFix(data["t0"] + timedelta(seconds=int(columns.seconds[-1])), int(columns.seq[-1])),
        )
    if new:
        ctx.session.execute(
            COUNT_FIXES, {"patrol": patrol.id, "added": new, "max_seq": int(columns.seq.max())}
        )
        previous = None if last is None else (last.recorded_at, last.seq)
        waiting = ctx.derive_later.get(patrol.id)
        ctx.derive_later[patrol.id] = (
            (extends, previous) if waiting is None else (waiting[0] and extends, waiting[1])
        )
    points = {"new": new, "duplicate": same - new, "conflict": different}
    if different:
        keep_conflict(ctx, "track_chunk", record_id, "points-differ", raw)
        return Verdict(
            str(record_id),
            "track_chunk",
            CONFLICT,
            code="points-differ",
            detail=f"{different} fixes differ from those already stored under the same "
            "sequence numbers; the stored ones are kept and this chunk is kept for review",
            points=points,
        )
    return Verdict(str(record_id), "track_chunk", STORED, points=points)


def queue_derived(ctx: PushContext) -> None:
    """Leave what follows from the push's new fixes to the worker (one statement)."""
    if not ctx.derive_later:
        return
    patrols = sorted(ctx.derive_later)
    ctx.session.execute(
        QUEUE_DERIVED,
        {
            "area": ctx.area_id,
            "patrols": patrols,
            "extends": [ctx.derive_later[p][0] for p in patrols],
            "since_at": [(ctx.derive_later[p][1] or (None, None))[0] for p in patrols],
            "since_seq": [(ctx.derive_later[p][1] or (None, None))[1] for p in patrols],
        },
    )
    ctx.derive_later.clear()
