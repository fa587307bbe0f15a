"""A soak: the simulator's fleet syncing without pause, a dashboard's live streams held open (and
reopened as each ends), and an SOS every few seconds, for a few minutes on one server. Printed: the
SOS latency (p50, p99), every error (an SOS not answered 201, a fleet round that failed, a stream
refused for another reason than its cap), and the memory (RSS) of the server's processes at the
start and at the end.

Workload: `rangersync serve` (gunicorn, 2 workers, 32 threads each) over the demo park; 2 fleet
threads, each running the simulator with 2 handhelds and half-hour patrols, round after round;
DASHBOARD_STREAMS live streams of the manager's dashboard (two sign-ins, as two browsers); an SOS
from one more handheld every SOS_EVERY_S seconds, for SOAK_SECONDS (180 by default).

    .venv/bin/python bench/soak.py
"""

from __future__ import annotations

import http.client
import json
import os
import statistics
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy.orm import sessionmaker

from server.core.db import make_engine
from server.demo.seed import DEMO_PASSWORD, seed
from sync.device.simulate import enrol_device, manager_session, run_fleet

try:
    from bench._common import database, served_process
except ModuleNotFoundError:  # run as `python bench/soak.py`: bench/ is on the path, not its parent
    from _common import database, served_process

SOAK_SECONDS = float(os.environ.get("SOAK_SECONDS", "180"))
SOS_EVERY_S = 3.0
DASHBOARD_STREAMS = 6
FLEET_THREADS = 2


def _rss_mb(master: int) -> float:
    """Resident memory of gunicorn's master and its workers, in MB."""
    pids = [master]
    children = Path(f"/proc/{master}/task/{master}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    total_kb = 0
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total_kb += int(line.split()[1])
    return total_kb / 1024


class Soak:
    def __init__(self, base: str) -> None:
        self.base = base
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.errors: list[str] = []
        self.latencies: list[float] = []
        self.fleet_rounds = self.fleet_fixes = 0
        self.streams_opened = self.streams_refused = self.events = 0

    def error(self, what: str) -> None:
        with self.lock:
            self.errors.append(what)

    def fleet(self, number: int) -> None:
        seed = number * 1000
        while not self.stop.is_set():
            seed += 1
            try:
                result = run_fleet(
                    self.base,
                    password=DEMO_PASSWORD,
                    devices=2,
                    hours=0.5,
                    photo_rate=0.2,
                    seed=seed,
                    say=lambda _line: None,
                )
            except Exception as failure:  # a soak counts every failure, and goes on
                self.error(f"fleet round: {failure!r}"[:300])
                continue
            with self.lock:
                self.fleet_rounds += 1
                self.fleet_fixes += result.fixes
            if not result.complete:
                self.error(f"fleet round left {result.sent - result.acknowledged} records unsent")

    def stream(self, token: str) -> None:
        where = urlsplit(self.base)
        while not self.stop.is_set():
            connection = http.client.HTTPConnection(where.hostname, where.port, timeout=30)
            try:
                connection.request(
                    "GET",
                    "/api/v1/areas/demo/live?seconds=20",
                    headers={"Authorization": f"Bearer {token}"},
                )
                response = connection.getresponse()
                if response.status in (429, 503):  # the cap, as it should: wait as told
                    with self.lock:
                        self.streams_refused += 1
                    self.stop.wait(float(response.headers.get("Retry-After", "5")))
                    continue
                if response.status != 200:
                    self.error(f"live stream answered {response.status}")
                    self.stop.wait(2)
                    continue
                with self.lock:
                    self.streams_opened += 1
                for line in iter(response.readline, b""):
                    if line.startswith(b"event: ") and b"reconnect" not in line:
                        with self.lock:
                            self.events += 1
                    if self.stop.is_set():
                        break
            except OSError as failure:
                self.error(f"live stream: {failure!r}")
            finally:
                connection.close()

    def sos(self, token: str) -> None:
        counter = 0
        while not self.stop.wait(SOS_EVERY_S):
            counter += 1
            body = {
                "counter": counter,
                "text": "soak: ranger hurt",
                "position": {"type": "Point", "coordinates": [37.6, -3.4]},
                "sent_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
            }
            request = urllib.request.Request(  # noqa: S310 (loopback)
                self.base + "/api/v1/sos", data=json.dumps(body).encode(), method="POST"
            )
            request.add_header("Content-Type", "application/json")
            request.add_header("Authorization", f"Bearer {token}")
            began = time.perf_counter()
            try:
                with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310
                    status = answer.status
            except urllib.error.HTTPError as refused:
                status = refused.code
            except OSError as failure:
                self.error(f"sos {counter}: {failure!r}")
                continue
            took = time.perf_counter() - began
            if status != 201:
                self.error(f"sos {counter} answered {status}")
                continue
            with self.lock:
                self.latencies.append(took)


def _pct(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def main() -> None:
    with database("bench", prefix="rangersync-bench-soak-") as (root, url):
        engine = make_engine(url)
        with sessionmaker(bind=engine)() as session:
            seed(session)
            session.commit()
        engine.dispose()
        with served_process(url, root) as (base, master):
            manager, _rangers = manager_session(base, "demo", "manager", DEMO_PASSWORD)
            second_browser, _ = manager_session(base, "demo", "manager", DEMO_PASSWORD)
            sos_device = enrol_device(base, manager, "demo", "amani", "SOS handheld")["token"]
            soak = Soak(base)
            threads = [threading.Thread(target=soak.fleet, args=(n,)) for n in range(FLEET_THREADS)]
            threads += [
                threading.Thread(target=soak.stream, args=((manager, second_browser)[i % 2],))
                for i in range(DASHBOARD_STREAMS)
            ]
            threads.append(threading.Thread(target=soak.sos, args=(sos_device,)))
            rss_start = _rss_mb(master)
            began = time.monotonic()
            for thread in threads:
                thread.start()
            time.sleep(SOAK_SECONDS)
            soak.stop.set()
            for thread in threads:
                thread.join(timeout=120)
            seconds = time.monotonic() - began
            rss_end = _rss_mb(master)
    lat = soak.latencies
    p50, p99 = (_pct(lat, 50) * 1000, _pct(lat, 99) * 1000) if len(lat) > 1 else (0.0, 0.0)
    print(
        f"soak {seconds:.0f} s: {len(lat)} SOS answered, p50 {p50:.1f} ms, p99 {p99:.1f} ms; "
        f"{soak.fleet_rounds} fleet rounds ({soak.fleet_fixes} fixes); live streams: "
        f"{soak.streams_opened} opened, {soak.streams_refused} refused at the cap, "
        f"{soak.events} events; RSS {rss_start:.0f} MB -> {rss_end:.0f} MB; "
        f"{len(soak.errors)} errors"
    )
    for error in soak.errors[:20]:
        print("  error:", error)
    print(
        json.dumps(
            {
                "metric": "soak_sos_p99_ms",
                "value": round(p99, 1),
                "unit": "ms",
                "seconds": round(seconds),
                "sos": len(lat),
                "p50_ms": round(p50, 1),
                "errors": len(soak.errors),
                "fleet_rounds": soak.fleet_rounds,
                "fleet_fixes": soak.fleet_fixes,
                "streams_opened": soak.streams_opened,
                "streams_refused": soak.streams_refused,
                "rss_start_mb": round(rss_start),
                "rss_end_mb": round(rss_end),
            }
        )
    )


if __name__ == "__main__":
    main()
