"""Track ingest through the push endpoint (HTTP, gzip, validation, commit) against raw COPY into
the same table, in the same run, on the same throwaway PostGIS cluster.

Workload: 20 foot patrols of 5 000 fixes (100 000 fixes), sent as a device sends them —
chunks of 1 000 fixes, 4 chunks per gzip'd push, one push after another, each answered only after
its commit — to `rangersync serve` (gunicorn, 2 workers). The reference loads the same number of
rows with COPY (hex EWKB geometry, one transaction) into track_points. Goal: ≥ 0.5 × COPY's rows/s.

    .venv/bin/python bench/ingest.py
"""

from __future__ import annotations

import gzip
import io
import json
import random
import struct
import time
import urllib.request
import uuid
from datetime import UTC, date, datetime

import psycopg
from shapely.geometry import MultiPolygon, box

from server.accounts.service import create_user
from server.areas.service import create_area
from server.core.db import make_engine, make_session_factory
from server.core.policy import SYSTEM
from server.devices.service import create_enrolment_code, enrol
from server.reports.categories import load_standard_categories
from sync.device.fieldsim import foot_patrol
from sync.protocol import PROTOCOL_HEADER, PROTOCOL_VERSION
from sync.protocol.tracks import encode

try:
    from bench._common import database, served
except (
    ModuleNotFoundError
):  # run as `python bench/ingest.py`: bench/ is on the path, not its parent
    from _common import database, served

PATROLS = 20
FIXES = 5_000
CHUNK = 1_000
CHUNKS_PER_PUSH = 4
STARTED = datetime(2026, 11, 2, 5, 0, tzinfo=UTC)


def _setup(url: str) -> str:
    """A park, a ranger and an enrolled device; answers the device token."""
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
            session,
            SYSTEM,
            area_id=area.id,
            username="walker",
            password="bench-password-1",
            role="ranger",
        )
        code = create_enrolment_code(session, SYSTEM, area.id, "walker", ttl_hours=1)
        token = enrol(session, code.code).token
        session.commit()
    engine.dispose()
    return token


def _bodies(rng: random.Random) -> tuple[list[bytes], int]:
    records = []
    points = 0
    for i in range(PATROLS):
        patrol_id = str(uuid.UUID(int=rng.getrandbits(128)))
        records.append(
            {
                "kind": "patrol",
                "id": patrol_id,
                "data": {"patrol_type": "foot", "started_at": STARTED.isoformat()},
            }
        )
        fixes = foot_patrol(
            (37.5 + rng.random() * 0.2, -3.5 + rng.random() * 0.2), STARTED, FIXES, rng
        )
        points += len(fixes)
        for seq in range(0, FIXES, CHUNK):
            records.append(
                {
                    "kind": "track_chunk",
                    "id": str(uuid.UUID(int=rng.getrandbits(128))),
                    "data": encode(patrol_id, seq, fixes[seq : seq + CHUNK]),
                }
            )
        del i
    bodies, batch = [], []
    for record in records:
        batch.append(record)
        if sum(r["kind"] == "track_chunk" for r in batch) == CHUNKS_PER_PUSH:
            bodies.append(batch)
            batch = []
    if batch:
        bodies.append(batch)
    now = datetime.now(UTC).isoformat()
    return [
        gzip.compress(json.dumps({"device_time": now, "records": b}).encode(), 6) for b in bodies
    ], points


def _push(base: str, token: str, body: bytes) -> dict:
    request = urllib.request.Request(f"{base}/api/v1/sync/push", data=body, method="POST")  # noqa: S310
    for name, value in {
        "Authorization": f"Bearer {token}",
        PROTOCOL_HEADER: str(PROTOCOL_VERSION),
        "Content-Type": "application/json",
        "Content-Encoding": "gzip",
    }.items():
        request.add_header(name, value)
    with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310 (loopback)
        return json.loads(response.read())


def _ewkb_point(lon: float, lat: float) -> str:
    return struct.pack("<BIIdd", 1, 0x20000001, 4326, lon, lat).hex()


def _copy_reference(conninfo: str, area_id: str, rows: int, rng: random.Random) -> float:
    month = date(STARTED.year, STARTED.month, 1)
    buffer = io.StringIO()
    per_patrol = FIXES
    for _ in range(rows // per_patrol):
        patrol_id = uuid.UUID(int=rng.getrandbits(128))
        for seq, fix in enumerate(foot_patrol((37.5, -3.5), STARTED, per_patrol, rng)):
            t = fix.time.isoformat()
            buffer.write(
                f"{patrol_id}\t{seq}\t{month}\t{area_id}\t{t}\t{t}\t"
                f"{_ewkb_point(fix.lon, fix.lat)}\t{fix.accuracy_m}\n"
            )
    data = buffer.getvalue()
    with psycopg.connect(conninfo) as conn:
        conn.execute("SELECT rs_ensure_track_partition(%s)", (month,))
        conn.commit()
        began = time.perf_counter()
        with conn.cursor().copy(
            "COPY track_points (patrol_id, seq, track_month, area_id, device_time, recorded_at,"
            " geom, accuracy_m) FROM STDIN"
        ) as copy:
            copy.write(data)
        conn.commit()
        return time.perf_counter() - began


def main() -> None:
    rng = random.Random(7)
    with database("bench", prefix="rangersync-bench-") as (root, url):
        token = _setup(url)
        bodies, points = _bodies(rng)
        with served(url, root) as base:
            warm = _bodies(random.Random(99))[0][:1]
            _push(base, token, warm[0])  # warm the workers and the connection pools
            began = time.perf_counter()
            stored = 0
            for body in bodies:
                result = _push(base, token, body)
                stored += sum((r.get("points") or {}).get("new", 0) for r in result["results"])
            push_seconds = time.perf_counter() - began
        assert stored == points, f"stored {stored} of {points} fixes"
        conninfo = url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(conninfo) as conn:
            area_id = conn.execute("SELECT id FROM areas WHERE slug = 'bench'").fetchone()[0]
        copy_seconds = _copy_reference(conninfo, str(area_id), points, rng)
    push_rate, copy_rate = points / push_seconds, points / copy_seconds
    compressed = sum(len(b) for b in bodies)
    print(f"fixes: {points} in {len(bodies)} pushes ({compressed / points:.2f} B/fix on the wire)")
    print(
        f"push endpoint: {push_seconds:6.2f} s  {push_rate:10.0f} fixes/s (HTTP, gzip, checks, commit)"
    )
    print(f"raw COPY:      {copy_seconds:6.2f} s  {copy_rate:10.0f} rows/s")
    print(f"ratio push/COPY: {push_rate / copy_rate:.3f} (goal >= 0.5)")
    print(
        json.dumps(
            {
                "metric": "ingest_vs_copy",
                "value": round(push_rate / copy_rate, 3),
                "goal": 0.5,
                "unit": "ratio of rows/s",
                "push_rows_per_s": round(push_rate),
                "copy_rows_per_s": round(copy_rate),
            }
        )
    )


if __name__ == "__main__":
    main()
