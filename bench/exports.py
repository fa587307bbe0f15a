"""Exports of a large park in every format, as a partner gets them (geoprivacy applied), and
one through the HTTP API as a job made by a real `rangersync worker`.

Workload: one park with a 100 000-feature map layer and 20 000 wildlife sightings (snapped to
10 km cells). For each format: the seconds `server.exports.service.export` takes and the file's
size. Then the same GeoPackage asked over HTTP by a partner key: 202, the worker's job polled
until done, the file downloaded; its wall time and the progress steps seen. No goal: figures.

    .venv/bin/python bench/exports.py [--features 100000] [--sightings 20000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.request
from datetime import datetime
from pathlib import Path

from shapely.geometry import MultiPolygon, box
from sqlalchemy import text

from server.areas.service import create_area
from server.core.db import make_engine, make_session_factory
from server.core.policy import SYSTEM, Actor
from server.exports.formats import WRITERS
from server.exports.service import export
from server.ogc.service import Access
from server.partners import geoprivacy
from server.partners.keys import issue_key
from server.reports.categories import load_standard_categories

try:
    from bench._common import database, served
except ModuleNotFoundError:  # run as `python bench/exports.py`
    from _common import database, served

BIN = Path(sys.executable).parent


def _setup(url: str, features: int, sightings: int) -> tuple[object, str]:
    engine = make_engine(url)
    session = make_session_factory(engine)()
    load_standard_categories(session)
    area = create_area(
        session,
        SYSTEM,
        slug="bench",
        name="Bench Park",
        boundary=MultiPolygon([box(36, -4, 38, -2)]),
    )
    session.execute(
        text(
            """INSERT INTO map_features (id, area_id, layer, name, geom, properties, version)
               SELECT gen_random_uuid(), :area, 'water_point', 'WP ' || n,
                      ST_SetSRID(ST_MakePoint(36 + random() * 2, -4 + random() * 2), 4326),
                      jsonb_build_object('depth_m', n % 17), 1
               FROM generate_series(1, :n) n"""
        ),
        {"area": area.id, "n": features},
    )
    session.execute(
        text(
            """INSERT INTO reports (id, area_id, category_id, geom, observed_at_device,
                                   observed_at, attributes, status, clock_suspect,
                                   priority, version)
               SELECT gen_random_uuid(), :area,
                      (SELECT id FROM report_categories WHERE key = 'wildlife_sighting'
                       AND area_id IS NULL),
                      ST_SetSRID(ST_MakePoint(36 + random() * 2, -4 + random() * 2), 4326),
                      now() - make_interval(days => 30 + n % 300),
                      now() - make_interval(days => 30 + n % 300),
                      jsonb_build_object('species', (ARRAY['elephant', 'giraffe', 'tembo'])[1 + n % 3],
                                         'count', 1 + n % 9), 'new', false, 3, 1
               FROM generate_series(1, :n) n"""
        ),
        {"area": area.id, "n": sightings},
    )
    geoprivacy.set_rules(
        session,
        SYSTEM,
        area.id,
        [{"category": "wildlife_sighting", "visibility": "snapped", "cell_m": 10_000}],
    )
    key = issue_key(
        session, SYSTEM, areas=["bench"], organisation="bench", rate_limit="1000/minute"
    ).key
    session.commit()
    session.execute(text("ANALYZE"))
    session.commit()
    return (engine, session, area.id), key


def _job(base: str, key: str, url: str, root: Path) -> tuple[float, int, list[float], float]:
    """Seconds from the request to the downloaded file, its size, the progress seen, and the
    seconds the job itself took (created_at → finished_at: queueing and the worker's start
    included)."""
    env = os.environ | {
        "DATABASE_URL": url,
        "RANGERSYNC_VAR_DIR": str(root / "var"),
        "LOG_LEVEL": "WARNING",
    }
    worker = subprocess.Popen([BIN / "rangersync", "worker"], env=env)
    try:
        started = time.perf_counter()
        request = urllib.request.Request(  # noqa: S310 (loopback)
            f"{base}/ogc/exports?area=bench&format=gpkg&key={key}", method="POST"
        )
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            assert response.status == 202, response.status
            location = response.headers["Location"]
        seen = []
        while True:
            with urllib.request.urlopen(location, timeout=10) as response:  # noqa: S310
                job = json.load(response)
            if not seen or seen[-1] != job["progress_percent"]:
                seen.append(job["progress_percent"])
            if job["state"] in ("done", "failed"):
                break
            time.sleep(0.2)
        assert job["state"] == "done", job
        with urllib.request.urlopen(job["download"], timeout=60) as response:  # noqa: S310
            size = len(response.read())
        made = datetime.fromisoformat(job["finished_at"]) - datetime.fromisoformat(
            job["created_at"]
        )
        return time.perf_counter() - started, size, seen, made.total_seconds()
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--features", type=int, default=100_000)
    parser.add_argument("--sightings", type=int, default=20_000)
    args = parser.parse_args()
    figures = {}
    with database() as (root, url):
        (engine, session, area_id), key = _setup(url, args.features, args.sightings)
        partner = Access(Actor("system", None, {area_id: "partner"}))
        for fmt in WRITERS:
            output = root / f"bench.{fmt}"
            started = time.perf_counter()
            written = export(session, partner, "bench", fmt, output)
            seconds = time.perf_counter() - started
            session.rollback()
            size = output.stat().st_size
            figures[fmt] = {"seconds": round(seconds, 2), "bytes": size}
            print(
                f"{fmt:8} {sum(written.values()):7d} features written in {seconds:6.2f} s,"
                f" {size / 1e6:7.1f} MB ({written})"
            )
        session.close()
        engine.dispose()
        with served(url, root, EXPORT_STREAM_MAX_FEATURES="20000") as base:
            seconds, size, seen, made = _job(base, key, url, root)
        print(
            f"HTTP job (gpkg, partner key, worker): {seconds:.2f} s to the downloaded file"
            f" ({made:.2f} s from created to finished), {size / 1e6:.1f} MB;"
            f" progress seen {seen}"
        )
        figures["http_job_gpkg"] = {"seconds": round(seconds, 2), "bytes": size}
    print(
        json.dumps(
            {
                "metric": "export_seconds_gpkg",
                "value": figures["gpkg"]["seconds"],
                "goal": None,
                "unit": f"s for {args.features + args.sightings} features",
                "formats": figures,
            }
        )
    )


if __name__ == "__main__":
    main()
