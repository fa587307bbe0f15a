"""Vector tile latency through `rangersync serve` (HTTP, auth, scope, cache check, ST_AsMVT)
against the bare ST_AsMVT query on a plain connection, in the same run, on the same throwaway
PostGIS cluster.

Workload: one z12 tile holding 50 000 report points (the dense tile) and one z12 tile crossed by
300 foot patrols of 1 000 fixes each (the patrol-lines tile), in a park with a manager.
- bare:     the tile's SQL as the server runs it, through the same driver (JIT off, as the app),
            with no HTTP, authentication, scope or cache check
- uncached: GET /tiles/… after a row under the tile changed (so the cache must re-render)
- cached:   GET /tiles/… again, nothing changed (served from the worker's cache after one check)
Goals: uncached ≤ 1.2 × bare; cached ≥ 20 × faster than uncached. Medians of repeated runs.

    .venv/bin/python bench/tiles.py
"""

from __future__ import annotations

import json
import math
import random
import statistics
import time
import urllib.request
import uuid
from datetime import UTC, date, datetime

import psycopg
from shapely.geometry import LineString, MultiPolygon, box
from sqlalchemy import text

from server.accounts.service import create_user
from server.areas.service import create_area
from server.core.db import make_engine, make_session_factory
from server.core.policy import SYSTEM
from server.maps.tiles import layer_spec, tile_params, tile_sql
from server.reports.categories import load_standard_categories
from sync.device.fieldsim import foot_patrol

try:
    from bench._common import database, served
except ModuleNotFoundError:  # run as `python bench/tiles.py`: bench/ is on the path, not its parent
    from _common import database, served

Z, LON, LAT = 12, 37.6, -3.4
POINTS = 50_000
PATROLS, FIXES = 300, 1_000
STARTED = datetime(2026, 11, 2, 5, 0, tzinfo=UTC)
RUNS_UNCACHED, RUNS_CACHED = 15, 200
PASSWORD = "bench-password-1"  # noqa: S105


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    return int((lon + 180) / 360 * n), int(
        (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    )


def _setup(url: str, rng: random.Random) -> str:
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        load_standard_categories(session)
        area = create_area(
            session,
            SYSTEM,
            slug="bench",
            name="Bench Park",
            boundary=MultiPolygon([box(37.3, -3.6, 37.9, -3.2)]),
        )
        create_user(
            session, SYSTEM, area_id=area.id, username="boss", password=PASSWORD, role="manager"
        )
        session.commit()
        area_id = area.id
    engine.dispose()
    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    x, y = tile_of(LON, LAT, Z)
    with psycopg.connect(conninfo) as conn:
        conn.execute(
            """
            INSERT INTO reports (id, area_id, category_id, attributes, geom, observed_at_device,
                                 observed_at, clock_suspect, status, priority, version)
            SELECT gen_random_uuid(), %(a)s,
                   (SELECT id FROM report_categories WHERE key = 'poaching.snare'), '{}',
                   ST_SetSRID(ST_MakePoint(ST_XMin(b) + random() * (ST_XMax(b) - ST_XMin(b)),
                                           ST_YMin(b) + random() * (ST_YMax(b) - ST_YMin(b))),
                              4326),
                   %(t)s, %(t)s, false, 'new', 3, 1
            FROM generate_series(1, %(n)s),
                 LATERAL (SELECT ST_Transform(ST_TileEnvelope(%(z)s, %(x)s, %(y)s), 4326) b) e
            """,
            {"a": area_id, "t": STARTED, "n": POINTS, "z": Z, "x": x, "y": y},
        )
        rows = []
        for _ in range(PATROLS):
            start = (LON + rng.uniform(-0.04, 0.04), LAT + rng.uniform(-0.04, 0.04))
            line = LineString([(f.lon, f.lat) for f in foot_patrol(start, STARTED, FIXES, rng)])
            rows.append((uuid.uuid4(), area_id, STARTED, date(2026, 11, 1), line.wkb, FIXES))
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO patrols (id, area_id, patrol_type, started_at, track_month, line,"
                " distance_m, duration_s, moving_s, point_count, armed, clock_suspect, version)"
                " VALUES (%s, %s, 'foot', %s, %s, ST_GeomFromWKB(%s, 4326), 0, 0, 0, %s,"
                " false, false, 1)",
                rows,
            )
        conn.execute("ANALYZE")
    return str(area_id)


def _get(base: str, path: str, token: str) -> tuple[float, str, int]:
    request = urllib.request.Request(base + path)  # noqa: S310
    request.add_header("Authorization", f"Bearer {token}")
    began = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 (loopback)
        body = response.read()
        return time.perf_counter() - began, response.headers["X-Tile-Cache"], len(body)


def _bare_query(layer: str, area_id: str):
    """The tile's SQL exactly as the server runs it, less the snapshot column the cache needs."""
    spec = layer_spec(layer)
    x, y = tile_of(LON, LAT, Z)
    return text(tile_sql(spec, with_snapshot=False)), tile_params(
        spec, Z, x, y, [uuid.UUID(area_id)]
    )


def _timed(conn, sql, params) -> float:
    began = time.perf_counter()
    conn.execute(sql, params).one()
    conn.rollback()
    return time.perf_counter() - began


def _measure(base, token, conninfo, area_id, layer, touch_sql) -> dict:
    """Bare and uncached alternate, run after run, so that neither gets the warmer cache."""
    x, y = tile_of(LON, LAT, Z)
    path = f"/tiles/{layer}/{Z}/{x}/{y}.mvt"
    sql, params = _bare_query(layer, area_id)
    bare, uncached, size = [], [], 0
    # The bare query goes through the same driver and settings as the app (JIT off), once more
    # with JIT on (and forced) to show what turning it off saves.
    plain_engine = make_engine(conninfo)
    jit_engine = make_engine(conninfo)
    with (
        plain_engine.connect() as plain,
        jit_engine.connect() as with_jit,
        psycopg.connect(conninfo, autocommit=True) as writer,
    ):
        with_jit.execute(text("SET jit = on"))
        with_jit.execute(text("SET jit_above_cost = 0"))
        with_jit.commit()
        _timed(plain, sql, params)  # warm shared buffers and hint bits for both
        bare_jit = statistics.median(_timed(with_jit, sql, params) for _ in range(3))
        for _ in range(RUNS_UNCACHED):
            writer.execute(touch_sql)  # a row under the tile changes: the cache must re-render
            seconds, state, size = _get(base, path, token)
            assert state == "miss", state
            uncached.append(seconds)
            bare.append(_timed(plain, sql, params))
    plain_engine.dispose()
    jit_engine.dispose()
    _get(base, path, token)
    cached = []
    for _ in range(RUNS_CACHED):
        seconds, state, _ = _get(base, path, token)
        assert state == "hit", state
        cached.append(seconds)
    b, u, c = statistics.median(bare), statistics.median(uncached), statistics.median(cached)
    return {
        "bare_ms": b * 1e3,
        "bare_jit_ms": bare_jit * 1e3,
        "uncached_ms": u * 1e3,
        "cached_ms": c * 1e3,
        "uncached_vs_bare": u / b,
        "cached_speedup": u / c,
        "bytes": size,
    }


def main() -> None:
    rng = random.Random(11)
    with database("bench", prefix="rangersync-bench-tiles-") as (root, url):
        area_id = _setup(url, rng)
        conninfo = url.replace("postgresql+psycopg://", "postgresql://")
        # One worker: the cache is per process; more workers would each warm their own.
        with served(url, root, 1) as base:
            body = json.dumps({"username": "boss", "password": PASSWORD}).encode()
            request = urllib.request.Request(  # noqa: S310
                base + "/api/v1/auth/token",
                data=body,
                headers={"Content-Type": "application/json"},
            )
            with urllib.request.urlopen(request) as response:  # noqa: S310
                token = json.loads(response.read())["access_token"]
            results = {
                "dense": _measure(
                    base,
                    token,
                    conninfo,
                    area_id,
                    "reports",
                    "UPDATE reports SET priority = priority WHERE id ="
                    " (SELECT id FROM reports ORDER BY id LIMIT 1)",
                ),
                "patrols": _measure(
                    base,
                    token,
                    conninfo,
                    area_id,
                    "patrols",
                    "UPDATE patrols SET version = version WHERE id = (SELECT id FROM patrols ORDER BY id LIMIT 1)",
                ),
            }
    for name, r in results.items():
        print(
            f"{name:8} tile ({r['bytes']} B): bare {r['bare_ms']:7.1f} ms "
            f"(JIT on: {r['bare_jit_ms']:.1f} ms) | uncached {r['uncached_ms']:7.1f} ms "
            f"= {r['uncached_vs_bare']:.2f} × bare (goal <= 1.2) | cached {r['cached_ms']:.2f} ms"
            f" = {r['cached_speedup']:.0f} × faster (goal >= 20)"
        )
    worst_overhead = max(r["uncached_vs_bare"] for r in results.values())
    worst_speedup = min(r["cached_speedup"] for r in results.values())
    print(
        json.dumps(
            {
                "metric": "tile_uncached_vs_bare",
                "value": round(worst_overhead, 3),
                "goal": 1.2,
                "unit": "ratio of latency (worst tile)",
                "cached_speedup": round(worst_speedup, 1),
                "cached_goal": 20,
                "tiles": {k: {m: round(v, 3) for m, v in r.items()} for k, r in results.items()},
            }
        )
    )


if __name__ == "__main__":
    main()
