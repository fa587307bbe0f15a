"""SOS endpoint latency while a sync storm runs on the same server, against the same endpoint on
the idle server, in the same run, on the same throwaway PostGIS cluster.

Workload: `rangersync serve` (gunicorn, 2 workers, 24 threads each). Idle phase: 300 SOS calls
(POST /api/v1/sos, one new counter each, 50 ms apart) from a handheld. Storm phase: the same 300
SOS calls while 6 handhelds push track chunks without pause (4 chunks of 1 000 fixes per gzip'd
push, as the reference client sends them; each push also runs the safety rules). Every SOS raises
a critical alert matched to the devices around it. Goal: p99 under load ≤ 3 × p99 idle.

    .venv/bin/python bench/sos.py
"""

from __future__ import annotations

import gzip
import json
import random
import statistics
import threading
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta

from shapely.geometry import MultiPolygon, box

from server.accounts.service import create_user
from server.areas.service import create_area
from server.core.db import make_engine, make_session_factory
from server.core.policy import SYSTEM
from server.devices.service import create_enrolment_code, enrol
from server.reports.categories import load_standard_categories
from sync.device.fieldsim import FIX_INTERVAL_S, foot_patrol
from sync.protocol import PROTOCOL_HEADER, PROTOCOL_VERSION
from sync.protocol.tracks import encode

try:
    from bench._common import database, served
except ModuleNotFoundError:  # run as `python bench/sos.py`: bench/ is on the path, not its parent
    from _common import database, served

SOS_CALLS = 300
SOS_GAP_S = 0.05
STORM_DEVICES = 6
CHUNK = 1_000
CHUNKS_PER_PUSH = 4
CENTRE = (37.6, -3.4)


def _setup(url: str) -> list[str]:
    """A park with one ranger and STORM_DEVICES + 1 enrolled handhelds; their tokens."""
    engine = make_engine(url)
    tokens = []
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
        for _ in range(STORM_DEVICES + 1):
            code = create_enrolment_code(session, SYSTEM, area.id, "walker", ttl_hours=1)
            tokens.append(enrol(session, code.code).token)
        session.commit()
    engine.dispose()
    return tokens


def _post(base: str, path: str, token: str, body: bytes, gzipped: bool = False) -> dict:
    request = urllib.request.Request(base + path, data=body, method="POST")  # noqa: S310
    request.add_header("Authorization", f"Bearer {token}")
    request.add_header(PROTOCOL_HEADER, str(PROTOCOL_VERSION))
    request.add_header("Content-Type", "application/json")
    if gzipped:
        request.add_header("Content-Encoding", "gzip")
    with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310 (loopback)
        return json.loads(response.read())


def _storm_bodies(rng: random.Random, pushes: int) -> list[bytes]:
    """One patrol walked in chunks: pushes of CHUNKS_PER_PUSH chunks, recent fixes."""
    patrol_id = str(uuid.UUID(int=rng.getrandbits(128)))
    fixes_total = pushes * CHUNKS_PER_PUSH * CHUNK
    began = datetime.now(UTC) - timedelta(seconds=FIX_INTERVAL_S * (fixes_total + 10))
    start = (CENTRE[0] + rng.uniform(-0.1, 0.1), CENTRE[1] + rng.uniform(-0.1, 0.1))
    fixes = foot_patrol(start, began, fixes_total, rng)
    patrol = {
        "kind": "patrol",
        "id": patrol_id,
        "data": {"patrol_type": "foot", "started_at": began.isoformat()},
    }
    bodies = []
    for p in range(pushes):
        records = [patrol] if p == 0 else []
        for c in range(CHUNKS_PER_PUSH):
            seq = (p * CHUNKS_PER_PUSH + c) * CHUNK
            records.append(
                {
                    "kind": "track_chunk",
                    "id": str(uuid.UUID(int=rng.getrandbits(128))),
                    "data": encode(patrol_id, seq, fixes[seq : seq + CHUNK]),
                }
            )
        body = {"device_time": datetime.now(UTC).isoformat(), "records": records}
        bodies.append(gzip.compress(json.dumps(body).encode(), 6))
    return bodies


class Storm:
    def __init__(self, base: str, tokens: list[str], rng: random.Random) -> None:
        self.base, self.stop, self.pushes, self.fixes = base, threading.Event(), 0, 0
        self.busy = 0  # pushes answered 503 (busy) and retried
        self.lock = threading.Lock()
        self.bodies = {token: _storm_bodies(random.Random(rng.random()), 100) for token in tokens}
        self.threads = [threading.Thread(target=self._run, args=(t,)) for t in tokens]

    def _run(self, token: str) -> None:
        for body in self.bodies[token]:
            while True:  # as the reference client does: a 503 is retried after a pause
                if self.stop.is_set():
                    return
                try:
                    result = _post(self.base, "/api/v1/sync/push", token, body, gzipped=True)
                    break
                except urllib.error.HTTPError as error:
                    if error.code != 503:
                        raise
                    with self.lock:
                        self.busy += 1
                    time.sleep(0.5)
            refused = [r for r in result["results"] if r["verdict"] != "stored"]
            assert not refused, refused[0]
            with self.lock:
                self.pushes += 1
                self.fixes += sum((r.get("points") or {}).get("new", 0) for r in result["results"])

    def __enter__(self) -> Storm:
        for thread in self.threads:
            thread.start()
        time.sleep(2.0)  # let it build up
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join()


def _sos_phase(base: str, token: str, first_counter: int, rng: random.Random) -> list[float]:
    latencies = []
    for i in range(SOS_CALLS):
        lon, lat = CENTRE[0] + rng.uniform(-0.05, 0.05), CENTRE[1] + rng.uniform(-0.05, 0.05)
        body = {
            "counter": first_counter + i,
            "text": "bench: ranger hurt",
            "position": {"type": "Point", "coordinates": [round(lon, 5), round(lat, 5)]},
            "sent_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
        }
        began = time.perf_counter()
        answer = _post(base, "/api/v1/sos", token, json.dumps(body).encode())
        latencies.append(time.perf_counter() - began)
        assert answer["duplicate"] is False
        assert answer["alert_id"]
        time.sleep(SOS_GAP_S)
    return latencies


def _pct(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]


def main() -> None:
    rng = random.Random(11)
    with database("bench", prefix="rangersync-bench-sos-") as (root, url):
        sos_token, *storm_tokens = _setup(url)
        with served(url, root) as base:
            _sos_phase(base, sos_token, 1, rng)[:0]  # warm both workers and their pools
            idle = _sos_phase(base, sos_token, 1 + SOS_CALLS, rng)
            storm = Storm(base, storm_tokens, rng)
            with storm:
                began = time.perf_counter()
                loaded = _sos_phase(base, sos_token, 1 + 2 * SOS_CALLS, rng)
                storm_seconds = time.perf_counter() - began
                pushes_during = storm.pushes
    p50_idle, p99_idle = _pct(idle, 50) * 1000, _pct(idle, 99) * 1000
    p50_load, p99_load = _pct(loaded, 50) * 1000, _pct(loaded, 99) * 1000
    ratio = p99_load / p99_idle
    print(f"SOS idle:  p50 {p50_idle:7.1f} ms  p99 {p99_idle:7.1f} ms  ({SOS_CALLS} calls)")
    print(
        f"SOS storm: p50 {p50_load:7.1f} ms  p99 {p99_load:7.1f} ms  ({SOS_CALLS} calls, "
        f"{STORM_DEVICES} devices pushing: {storm.pushes} pushes, {storm.fixes} fixes, "
        f"{storm.busy} busy answers retried; "
        f"{pushes_during / storm_seconds:.1f} pushes/s while measured)"
    )
    print(f"ratio p99 storm/idle: {ratio:.2f} (goal <= 3)")
    print(
        json.dumps(
            {
                "metric": "sos_p99_storm_vs_idle",
                "value": round(ratio, 2),
                "goal": 3,
                "unit": "ratio of p99 latency",
                "p50_idle_ms": round(p50_idle, 1),
                "p99_idle_ms": round(p99_idle, 1),
                "p50_storm_ms": round(p50_load, 1),
                "p99_storm_ms": round(p99_load, 1),
                "storm_pushes": storm.pushes,
                "storm_fixes": storm.fixes,
                "storm_busy_retries": storm.busy,
            }
        )
    )


if __name__ == "__main__":
    main()
