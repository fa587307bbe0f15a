"""End-of-shift storm: every handheld of a park comes back into signal at once and syncs.

Workload: DEVICES devices (default 200), each with an 8-hour foot patrol recorded offline
(960 fixes, one every 30 s), 5 reports and 2 photos (150–250 KB each) in its outbox.
One storm device is still out on its patrol (it sends no end) and crossed a danger zone. All are
released together through a barrier and run the reference client's sync(): one push of
12 records (patrol, 2 track chunks, 5 reports, 2 evidence declarations, the patrol's end),
then the two photos by tus, then the pull. The server is `rangersync serve` as `make run` starts
it, on a throwaway PostGIS cluster on this machine.

Reference, in the same run: the same workload from REFERENCE devices one after another on the
idle server. One storm device's patrol crosses a danger zone drawn around the middle of its
walk: the alert must still come within seconds. Printed: push latency p50/p95/max under the storm and idle (from the start of the
sync to the push's answer, so a push the server deferred with 503 + Retry-After counts its
wait), the accepted push requests alone, whole-sync latency,
errors (requests answered 5xx or not at all, and syncs that raised), duplicates (rows beyond
the distinct records sent, and verdicts other than `stored`), and a check that every photo is
on disk with its hash; the server's own time per push (SERVER_TIMING_LOG: total, SQL round trips
and time, Python time, wait for the push gate; p50/p95); and the delay from the danger device's
push to its danger-zone alert being visible (committed), polled every 50 ms.
Goal on this 2-core machine: p95 ≤ 2 s per push, 0 errors, 0 duplicates.

    .venv/bin/python bench/storm.py [--devices 200] [--workers 2]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import statistics
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from shapely.geometry import MultiPolygon, Point, box
from sqlalchemy import text

from server.accounts.service import create_user
from server.areas.service import create_area
from server.core.db import make_engine, make_session_factory
from server.core.policy import SYSTEM
from server.devices.service import create_enrolment_code, enrol
from server.maps.zones import create_zone
from server.reports.categories import load_standard_categories
from sync.device.client import DeviceClient
from sync.device.fieldsim import FIX_INTERVAL_S, foot_patrol
from sync.device.photos import photo

try:
    from bench._common import database, served
except ModuleNotFoundError:  # run as `python bench/storm.py`: bench/ is on the path, not its parent
    from _common import database, served

FIXES, REPORTS, PHOTOS = 960, 5, 2
RANGERS = 40
REFERENCE = 10
DANGER_RADIUS_DEG = 0.001  # about 110 m around the danger device's middle fix


def _enrol(url: str, devices: int) -> list[str]:
    """A park, its rangers and `devices` enrolled handhelds; answers their tokens."""
    engine = make_engine(url)
    tokens = []
    with make_session_factory(engine)() as session:
        load_standard_categories(session)
        area = create_area(
            session,
            SYSTEM,
            slug="storm",
            name="Storm Park",
            boundary=MultiPolygon([box(37.3, -3.6, 37.9, -3.2)]),
        )
        for r in range(RANGERS):
            create_user(
                session,
                SYSTEM,
                area_id=area.id,
                username=f"ranger{r}",
                password="storm-password-1",
                role="ranger",
            )
        for d in range(devices):
            code = create_enrolment_code(
                session, SYSTEM, area.id, f"ranger{d % RANGERS}", ttl_hours=1
            )
            tokens.append(enrol(session, code.code).token)
        session.commit()
    engine.dispose()
    return tokens


class Device(threading.Thread):
    """One handheld: records its shift offline, waits for the others, then syncs."""

    def __init__(
        self, number: int, base: str, token: str, workdir: Path, barrier, ends_patrol: bool = True
    ) -> None:
        super().__init__(daemon=True)
        self.number, self.base, self.token, self.workdir = number, base, token, workdir
        self.barrier = barrier
        self.ends_patrol = ends_patrol  # False: still out (the danger-zone device)
        self.pushes: list[float] = []  # seconds each accepted push request took
        self.pushed_after: float | None = None  # from the sync's start to the push's answer
        self.deferred = 0  # pushes the server answered 503 "busy, retry after" (load shedding)
        self.failures: list[str] = []  # other 5xx answers and requests with no answer
        self.began = 0.0
        self.error: BaseException | None = None
        self.sync_seconds = 0.0
        self.verdicts: Counter = Counter()
        self.uploaded = 0
        self.photos: dict[str, str] = {}
        self.report_ids: list[str] = []
        self.fixes: list = []
        self.push_answered_at: float | None = None  # time.time() of the accepted push's answer

    def _observe(self, method: str, url: str, status: int | None, seconds: float) -> None:
        push = method == "POST" and url.endswith("/sync/push")
        if push and status == 200:
            self.pushes.append(seconds)
            if self.pushed_after is None:
                self.pushed_after = time.perf_counter() - self.began
                self.push_answered_at = time.time()
        elif push and status == 503:
            self.deferred += 1
        elif status is None or status >= 500:
            self.failures.append(f"{method} {url} -> {status}")

    def run(self) -> None:
        try:
            self._record()
            if self.barrier is not None:
                self.barrier.wait()
            self.began = time.perf_counter()
            outcome = self.client.sync()
            self.sync_seconds = time.perf_counter() - self.began
            self.verdicts.update(outcome.pushed)
            self.uploaded = outcome.uploaded
        except BaseException as error:
            self.error = error
            if self.barrier is not None:
                self.barrier.abort()

    def _record(self) -> None:
        rng = random.Random(self.number)
        self.client = DeviceClient(
            self.base,
            self.token,
            self.workdir / f"d{self.number}.db",
            observe=self._observe,
            timeout_s=120,
        )
        self.client.db.execute("PRAGMA synchronous = OFF")  # set-up speed; not what is measured
        began = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=FIXES * FIX_INTERVAL_S)
        start = (37.4 + rng.random() * 0.4, -3.55 + rng.random() * 0.3)
        fixes = self.fixes = foot_patrol(start, began, FIXES, rng)
        patrol_id = self.client.start_patrol(started_at=began, armed=True)
        for fix in fixes:
            self.client.record_fix(patrol_id, fix)
        for i in range(REPORTS):
            fix = fixes[(i + 1) * FIXES // (REPORTS + 1)]
            where = {"type": "Point", "coordinates": [round(fix.lon, 6), round(fix.lat, 6)]}
            report_id = self.client.record_report(
                "poaching.snare",
                where,
                fix.time,
                patrol_id=patrol_id,
                attributes={"snare_type": "wire", "count": 1 + i, "action_taken": "removed"},
            )
            self.report_ids.append(report_id)
            if i < PHOTOS:
                data = photo(rng.randint(150_000, 250_000), rng)
                attachment_id = self.client.declare_attachment(report_id, data, "image/jpeg")
                self.photos[attachment_id] = hashlib.sha256(data).hexdigest()
        if self.ends_patrol:
            self.client.edit("patrol", patrol_id, 1, {"ended_at": fixes[-1].time.isoformat()})


class DangerWatch(threading.Thread):
    """Polls for the danger-zone alert and notes when it became visible (committed)."""

    def __init__(self, conninfo: str) -> None:
        super().__init__(daemon=True)
        self.conninfo = conninfo
        self.seen_at: float | None = None
        self.stop = threading.Event()

    def run(self) -> None:
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            while not self.stop.is_set():
                if conn.execute(
                    "SELECT 1 FROM safety_alerts WHERE kind = 'danger_zone'"
                ).fetchone():
                    self.seen_at = time.time()
                    return
                time.sleep(0.05)


def _draw_danger_zone(url: str, device: Device) -> None:
    """A danger zone around the middle of this device's walk, drawn once it has recorded it."""
    middle = device.fixes[len(device.fixes) // 2]
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        area_id = session.scalar(text("SELECT id FROM areas WHERE slug = 'storm'"))
        create_zone(
            session,
            SYSTEM,
            area_id,
            name="Storm danger zone",
            kind="danger",
            geometry=Point(middle.lon, middle.lat).buffer(DANGER_RADIUS_DEG),
        )
        session.commit()
    engine.dispose()


def _timings(path: Path, offset: int) -> list[dict]:
    """The server's tally of each accepted push from `offset` on in its timing log."""
    with path.open() as f:
        f.seek(offset)
        rows = [json.loads(line) for line in f if line.strip()]
    return [r for r in rows if r["path"] == "/api/v1/sync/push" and r["status"] == 200]


def _run(devices: list[Device]) -> float:
    began = time.perf_counter()
    for device in devices:
        device.start()
    for device in devices:
        device.join()
    return time.perf_counter() - began


def _quantiles(values: list[float]) -> tuple[float, float, float]:
    ordered = sorted(values)
    p = (
        statistics.quantiles(ordered, n=100, method="inclusive")
        if len(ordered) > 1
        else ordered * 99
    )
    return p[49], p[94], ordered[-1]


def _check_storage(conninfo: str, evidence: Path, devices: list[Device]) -> dict[str, int]:
    report_ids = [r for d in devices for r in d.report_ids]
    photos = {a: sha for d in devices for a, sha in d.photos.items()}
    with psycopg.connect(conninfo) as conn:
        reports, distinct = conn.execute(
            "SELECT count(*), count(DISTINCT id) FROM reports WHERE id = ANY(%s::uuid[])",
            (report_ids,),
        ).fetchone()
        points, distinct_points = conn.execute(
            "SELECT count(*), count(DISTINCT (patrol_id, seq)) FROM track_points"
        ).fetchone()
        patrols = conn.execute("SELECT count(*) FROM patrols").fetchone()[0]
        stored = dict(
            conn.execute(
                "SELECT id::text, sha256 FROM attachments WHERE state = 'stored'"
            ).fetchall()
        )
    on_disk = sum(
        1
        for a, sha in photos.items()
        if stored.get(a) == sha
        and hashlib.sha256((evidence / sha[:2] / sha[2:4] / sha).read_bytes()).hexdigest() == sha
    )
    return {
        "reports": reports,
        "report_rows_beyond_distinct": reports - distinct,
        "reports_expected": len(report_ids),
        "patrols": patrols,
        "points": points,
        "point_rows_beyond_distinct": points - distinct_points,
        "photos_expected": len(photos),
        "photos_verified": on_disk,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--devices", type=int, default=200)
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "2")))
    args = parser.parse_args(argv)
    with database("storm", prefix="rangersync-storm-") as (root, url):
        tokens = _enrol(url, args.devices + REFERENCE)
        conninfo = url.replace("postgresql+psycopg://", "postgresql://")
        timing_log = root / "server-timing.jsonl"
        with served(url, root, args.workers, SERVER_TIMING_LOG=str(timing_log)) as base:
            workdir = root / "devices"
            workdir.mkdir()
            print(f"storm: reference, {REFERENCE} devices one after another on the idle server")
            idle = [Device(i, base, tokens[i], workdir, None) for i in range(REFERENCE)]
            for device in idle:
                device.start()
                device.join()
            print(
                f"storm: {args.devices} devices record their shift, then sync at once "
                f"({args.workers} server workers)"
            )
            storm: list[Device] = []
            barrier = threading.Barrier(
                args.devices, action=lambda: _draw_danger_zone(url, storm[0])
            )
            storm += [
                Device(REFERENCE + i, base, tokens[REFERENCE + i], workdir, barrier, i > 0)
                for i in range(args.devices)
            ]
            offset = timing_log.stat().st_size
            watch = DangerWatch(conninfo)
            watch.start()
            wall = _run(storm)
            watch.join(timeout=30)
            watch.stop.set()
            pushes_timed = _timings(timing_log, offset)
        everyone = idle + storm
        storage = _check_storage(conninfo, root / "var" / "evidence" / "sha256", everyone)

    raised = [f"device {d.number}: {d.error!r}" for d in everyone if d.error]
    failures = [f for d in everyone for f in d.failures]
    verdicts = sum((d.verdicts for d in everyone), Counter())
    duplicates = (
        storage["report_rows_beyond_distinct"]
        + storage["point_rows_beyond_distinct"]
        + sum(n for v, n in verdicts.items() if v != "stored")
    )
    lost = (
        storage["reports_expected"]
        - storage["reports"]
        + storage["photos_expected"]
        - storage["photos_verified"]
        + len(everyone) * FIXES
        - storage["points"]
    )
    errors = len(raised) + len(failures) + lost
    storm_pushes = [d.pushed_after for d in storm if d.pushed_after is not None]
    idle_pushes = [d.pushed_after for d in idle if d.pushed_after is not None]
    p50, p95, worst = _quantiles(storm_pushes)
    i50, i95, _ = _quantiles(idle_pushes)
    r50, r95, _ = _quantiles([s for d in storm for s in d.pushes])
    deferred = sum(d.deferred for d in storm)
    s50, s95, _ = _quantiles([d.sync_seconds for d in storm if not d.error] or [0.0])
    for line in (raised + failures)[:10]:
        print("  error:", line)
    print(
        f"pushes: {len(storm_pushes)} under the storm, {len(idle_pushes)} idle; "
        f"{FIXES} fixes, {REPORTS} reports, {PHOTOS} photos per device; storm took {wall:.1f} s"
    )
    print(
        f"push answered after (from sync start, busy retries included), storm: "
        f"p50 {p50:6.3f} s  p95 {p95:6.3f} s  max {worst:6.3f} s"
    )
    print(f"push answered after, idle:   p50 {i50:6.3f} s  p95 {i95:6.3f} s")
    print(
        f"accepted push requests alone, storm: p50 {r50:6.3f} s  p95 {r95:6.3f} s; "
        f"{deferred} pushes answered 503 busy and retried"
    )
    print(f"whole sync (push, 2 photos, pull), storm: p50 {s50:6.3f} s  p95 {s95:6.3f} s")
    print(
        f"stored: {storage['reports']}/{storage['reports_expected']} reports, "
        f"{storage['points']} fixes, {storage['photos_verified']}/{storage['photos_expected']} "
        f"photos verified by SHA-256; verdicts {dict(verdicts)}"
    )
    print(f"errors: {errors}  duplicates: {duplicates}  (goal: p95 <= 2 s, 0 errors, 0 duplicates)")
    figures = {}
    for name in ("total_ms", "sql_ms", "py_ms", "gate_ms", "round_trips"):
        t50, t95, tmax = _quantiles([float(r[name]) for r in pushes_timed] or [0.0])
        figures[name] = (t50, t95, tmax)
    print(
        f"server time per accepted push, storm ({len(pushes_timed)} pushes): "
        f"p50 {figures['total_ms'][0]:.1f} ms  p95 {figures['total_ms'][1]:.1f} ms  "
        f"max {figures['total_ms'][2]:.1f} ms (gate wait apart)"
    )
    print(
        f"  of which SQL p50 {figures['sql_ms'][0]:.1f} ms  p95 {figures['sql_ms'][1]:.1f} ms; "
        f"Python p50 {figures['py_ms'][0]:.1f} ms  p95 {figures['py_ms'][1]:.1f} ms; "
        f"SQL round trips p50 {figures['round_trips'][0]:.0f}  p95 {figures['round_trips'][1]:.0f}"
        f"; gate wait p50 {figures['gate_ms'][0]:.0f} ms  p95 {figures['gate_ms'][1]:.0f} ms"
    )
    danger = storm[0]
    if watch.seen_at is not None and danger.push_answered_at is not None:
        danger_delay = watch.seen_at - danger.push_answered_at
        print(
            f"danger-zone alert visible {danger_delay:+.2f} s after the entering push was "
            f"answered ({watch.seen_at - danger.push_answered_at + danger.pushed_after:.2f} s "
            "after its sync began)"
        )
    else:
        danger_delay = None
        print("danger-zone alert: NOT raised within 30 s of the storm's end")
    print(
        json.dumps(
            {
                "metric": "storm_push_p95_s",
                "value": round(p95, 3),
                "goal": 2.0,
                "unit": "seconds",
                "devices": args.devices,
                "workers": args.workers,
                "p50_s": round(p50, 3),
                "idle_p50_s": round(i50, 3),
                "p95_vs_idle_p50": round(p95 / i50, 1),
                "busy_retries": deferred,
                "server_push_p50_ms": round(figures["total_ms"][0], 1),
                "server_push_p95_ms": round(figures["total_ms"][1], 1),
                "round_trips_p50": round(figures["round_trips"][0]),
                "danger_alert_delay_s": None if danger_delay is None else round(danger_delay, 2),
                "errors": errors,
                "duplicates": duplicates,
            }
        )
    )


if __name__ == "__main__":
    main()
