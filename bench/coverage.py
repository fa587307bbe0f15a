"""30-day coverage of a park: the API's answer (kept per patrol × cell × day) against computing the
same cells on the fly from the raw fixes, in the same run, on the same throwaway PostGIS cluster;
and what keeping coverage current costs per 1 000 new fixes.

Workload: a 0.6° × 0.4° park (about 66 × 44 km, some 11 600 cells of 500 m); `--fixes` fixes
(default 10 000 000) in foot patrols of 5 000 fixes every 30 s, starting on the 30 days of
November 2026, generated in SQL (generate_series) straight into track_points; one fix in 97 has
poor accuracy. Coverage is derived once, patrol by patrol (setup, not timed).

1. API: GET /api/v1/areas/bench/coverage/cells for the 30 days, through the app (Flask test
   client, a manager's token), best of 3.
2. Reference: the same cells (visits, patrols, fixes, km, hours) computed from the raw fixes with
   the same cleaning (window functions over every fix of the period), best of 2; both answers
   must hold the same cells with the same figures. Goal: API ≤ 0.1 × reference.
3. Incremental: 20 new patrols get 4 chunks of 1 000 fixes each; after each insert the ingest
   hook (fixes_arrived) is timed with its commit: ms per 1 000 fixes, vs re-deriving a whole
   5 000-fix patrol.

    .venv/bin/python bench/coverage.py [--fixes N]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import time
import uuid

from shapely.geometry import MultiPolygon, box
from sqlalchemy import text

from server.accounts.service import create_user
from server.analytics import tracks
from server.analytics.incremental import fixes_arrived
from server.app import create_app
from server.areas.service import create_area
from server.config import Config
from server.core.db import make_engine, make_session_factory
from server.core.policy import SYSTEM

try:
    from bench._common import database
except (
    ModuleNotFoundError
):  # run as `python bench/coverage.py`: bench/ is on the path, not its parent
    from _common import database

PER_PATROL = 5_000
START, END = "2026-11-01", "2026-11-30"
PARK = (37.3, -3.6, 37.9, -3.2)

PATROLS_SQL = """
    INSERT INTO patrols (id, area_id, patrol_type, armed, started_at, track_month, distance_m,
                         duration_s, moving_s, point_count, version, ended_at)
    SELECT md5(:salt || n)::uuid, :area, 'foot', true,
           timestamptz '2026-11-01 05:00+00' + ((n % 30) || ' days')::interval
             + ((n * 37 % 180) || ' minutes')::interval,
           date '2026-11-01', 0, 0, 0, :per, 1,
           timestamptz '2026-11-01 05:00+00' + ((n % 30) || ' days')::interval
             + ((n * 37 % 180) || ' minutes')::interval + make_interval(secs => 30 * (CAST(:per AS int) - 1))
    FROM generate_series(CAST(:first AS int), CAST(:last AS int)) AS n
"""
# Each patrol walks two laps of a Lissajous loop round its own centre, with a little noise.
FIXES_SQL = """
    INSERT INTO track_points (patrol_id, seq, track_month, area_id, device_time, recorded_at,
                              geom, accuracy_m)
    SELECT p.id, k, p.track_month, p.area_id, p.started_at + make_interval(secs => 30 * k),
           p.started_at + make_interval(secs => 30 * k),
           ST_SetSRID(ST_MakePoint(
               c.lon + c.r * sin(4 * pi() * k / :per) + (random() - 0.5) * 0.0001,
               c.lat + c.r * sin(6 * pi() * k / :per + c.phase) + (random() - 0.5) * 0.0001),
             4326),
           CASE WHEN k % 97 = 0 THEN 80 ELSE 4 + 8 * random() END
    FROM patrols p
    CROSS JOIN LATERAL (SELECT 37.38 + 0.44 * random() AS lon, -3.52 + 0.24 * random() AS lat,
                               0.015 + 0.04 * random() AS r, 6 * random() AS phase
                        WHERE p.id IS NOT NULL) c
    CROSS JOIN generate_series(0, CAST(:per AS int) - 1) AS k
    WHERE p.area_id = :area AND p.id = ANY(CAST(:ids AS uuid[]))
"""
REFERENCE_SQL = """
    SELECT i, j, count(DISTINCT (patrol_id, day)) AS visits, count(DISTINCT patrol_id) AS patrols,
           count(*) AS fixes, sum(metres) / 1000 AS km, sum(seconds) / 3600 AS hours
    FROM fixes WHERE flag IS NULL AND day BETWEEN :start AND :end
    GROUP BY i, j ORDER BY i, j
"""


def _setup(url: str):
    engine = make_engine(url)
    session = make_session_factory(engine)()
    area = create_area(
        session, SYSTEM, slug="bench", name="Bench Park", boundary=MultiPolygon([box(*PARK)])
    )
    create_user(
        session,
        SYSTEM,
        area_id=area.id,
        username="boss",
        password="bench-password-1",
        role="manager",
    )
    session.execute(text("SELECT rs_ensure_track_partition(date '2026-11-01')"))
    session.commit()
    return engine, session, area.id


def _generate(session, area_id, patrols: int, salt: str, per: int = PER_PATROL) -> list[str]:
    ids = []
    for first in range(0, patrols, 100):
        last = min(first + 100, patrols) - 1
        batch = [
            str(uuid.UUID(hashlib.md5(f"{salt}{n}".encode()).hexdigest()))  # noqa: S324
            for n in range(first, last + 1)
        ]
        session.execute(
            text(PATROLS_SQL),
            {"salt": salt, "area": area_id, "per": per, "first": first, "last": last},
        )
        session.execute(text(FIXES_SQL), {"area": area_id, "per": per, "ids": batch})
        session.commit()
        ids += batch
    return ids


def _derive(session, ids: list[str]) -> None:
    for k in range(0, len(ids), 50):
        tracks.refresh_patrols(session, ids[k : k + 50])
        session.commit()


def _best(fn, runs: int):
    times, result = [], None
    for _ in range(runs):
        began = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - began)
    return min(times), result


def _incremental(session, area_id) -> tuple[float, float]:
    """ms per 1 000 appended fixes through the ingest hook; ms to re-derive a 5 000-fix patrol."""
    ids = _generate(session, area_id, 20, "incremental", per=PER_PATROL)
    # Keep the first 1 000 fixes of each; put the rest back chunk by chunk, as a device sends
    # them, timing only the hook.
    session.execute(
        text(
            "CREATE UNLOGGED TABLE bench_later AS SELECT * FROM track_points"
            " WHERE patrol_id = ANY(CAST(:ids AS uuid[])) AND seq >= 1000"
        ),
        {"ids": ids},
    )
    session.execute(
        text(
            "DELETE FROM track_points WHERE patrol_id = ANY(CAST(:ids AS uuid[])) AND seq >= 1000"
        ),
        {"ids": ids},
    )
    session.commit()
    _derive(session, ids)
    appended = []
    for first in (1000, 2000, 3000, 4000):
        for patrol_id in ids:
            last = session.execute(
                text(
                    "SELECT recorded_at, seq FROM track_points WHERE patrol_id = :p"
                    " ORDER BY recorded_at DESC, seq DESC LIMIT 1"
                ),
                {"p": patrol_id},
            ).one()
            session.execute(
                text(
                    "INSERT INTO track_points SELECT * FROM bench_later WHERE patrol_id ="
                    " :p AND seq BETWEEN :a AND :b"
                ),
                {"p": patrol_id, "a": first, "b": first + 999},
            )
            began = time.perf_counter()
            fixes_arrived(session, uuid.UUID(patrol_id), extends=True, previous_last=tuple(last))
            session.commit()
            appended.append(time.perf_counter() - began)
    whole = []
    for patrol_id in ids:
        began = time.perf_counter()
        tracks.refresh_patrols(session, [patrol_id])
        session.commit()
        whole.append(time.perf_counter() - began)
    return 1000 * statistics.median(appended), 1000 * statistics.median(whole)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixes", type=int, default=10_000_000)
    args = parser.parse_args()
    patrols = max(1, args.fixes // PER_PATROL)
    with database("bench", prefix="rangersync-bench-") as (root, url):
        engine, session, area_id = _setup(url)
        began = time.perf_counter()
        ids = _generate(session, area_id, patrols, "park")
        generated = time.perf_counter() - began
        began = time.perf_counter()
        _derive(session, ids)
        derived = time.perf_counter() - began
        session.execute(text("ANALYZE"))
        session.commit()
        fixes = session.execute(text("SELECT count(*) FROM track_points")).scalar_one()
        print(
            f"fixes: {fixes} in {patrols} patrols; generated in {generated:.0f} s, "
            f"coverage derived in {derived:.0f} s (setup)"
        )

        config = Config.from_env(
            {"RANGERSYNC_VAR_DIR": str(root / "var"), "SECRET_KEY": "bench", "LOG_LEVEL": "WARNING"}
        )
        client = create_app(config, engine=engine).test_client()
        token = client.post(
            "/api/v1/auth/token", json={"username": "boss", "password": "bench-password-1"}
        ).get_json()["access_token"]
        path = f"/api/v1/areas/bench/coverage/cells?start={START}&end={END}"

        def api():
            answer = client.get(path, headers={"Authorization": f"Bearer {token}"})
            assert answer.status_code == 200, answer.get_data(as_text=True)
            return answer.get_json()

        api_s, cells = _best(api, 3)

        def reference():
            with engine.connect() as conn:
                conn.execute(text("SET work_mem = '256MB'"))
                sql = tracks.fixes_query(tracks.BY_AREA) + REFERENCE_SQL
                params = tracks.parameters(area=area_id, start=START, end=END)
                return [dict(r) for r in conn.execute(text(sql), params).mappings()]

        reference_s, expected = _best(reference, 2)
        assert [(c["i"], c["j"], c["visits"], c["patrols"], c["fixes"]) for c in cells] == [
            (c["i"], c["j"], c["visits"], c["patrols"], c["fixes"]) for c in expected
        ], "the API and the reference disagree"
        assert all(
            abs(a["km"] - b["km"]) < 1e-6 and abs(a["hours"] - b["hours"]) < 1e-6
            for a, b in zip(cells, expected, strict=True)
        )
        per_1000_ms, whole_ms = _incremental(session, area_id)
        session.close()
        engine.dispose()
    ratio = api_s / reference_s
    print(f"cells visited in 30 days: {len(cells)} (same cells and figures both ways)")
    print(f"API (kept coverage):      {api_s * 1000:9.1f} ms")
    print(f"on the fly from fixes:    {reference_s * 1000:9.1f} ms")
    print(f"ratio API/on-the-fly: {ratio:.4f} (goal <= 0.1)")
    print(
        f"incremental update: {per_1000_ms:.1f} ms per 1 000 appended fixes "
        f"(re-deriving a whole {PER_PATROL}-fix patrol: {whole_ms:.1f} ms)"
    )
    print(
        json.dumps(
            {
                "metric": "coverage_api_vs_on_the_fly",
                "value": round(ratio, 4),
                "goal": 0.1,
                "unit": "ratio of seconds",
                "fixes": fixes,
                "api_ms": round(api_s * 1000, 1),
                "on_the_fly_ms": round(reference_s * 1000),
                "incremental_ms_per_1000_fixes": round(per_1000_ms, 1),
                "rederive_patrol_ms": round(whole_ms, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
