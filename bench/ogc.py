"""The partner API (OGC API – Features) against pygeoapi serving the same PostGIS table through
its PostgreSQL provider, in the same run, on the same throwaway cluster.

Workload: one map layer of 100 000 point features; pages of 1 000 features, the first page and
a deep page (features 98 001–99 000). Ours pages by keyset (`after`, as its `next` links do);
pygeoapi by `offset` (as its links do). Both behind gunicorn with 2 workers, a request at a
time, medians of repeated runs. Goal: ≥ 3 × pygeoapi's throughput on both pages; the figure is
ours / pygeoapi's on the slower of the two.

    .venv/bin/python bench/ogc.py [--features 100000] [--runs 15]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from shapely.geometry import MultiPolygon, box
from sqlalchemy import text
from sqlalchemy.engine import make_url

from server.areas.service import create_area
from server.core.db import make_engine, make_session_factory
from server.core.pgcluster import free_port
from server.core.policy import SYSTEM
from server.partners.keys import issue_key

try:
    from bench._common import database, served
except ModuleNotFoundError:  # run as `python bench/ogc.py`
    from _common import database, served

PAGE = 1_000
BIN = Path(sys.executable).parent


def _setup(url: str, features: int) -> tuple[str, str]:
    """The bench layer; (a partner key, the key of the row before the deep page)."""
    engine = make_engine(url)
    session = make_session_factory(engine)()
    area = create_area(
        session,
        SYSTEM,
        slug="bench",
        name="Bench Park",
        boundary=MultiPolygon([box(36.0, -4.0, 38.0, -2.0)]),
    )
    session.execute(
        text(
            """INSERT INTO map_features (id, area_id, layer, name, geom, properties, version)
               SELECT gen_random_uuid(), :area, 'water_point', 'WP ' || n,
                      ST_SetSRID(ST_MakePoint(36 + random() * 2, -4 + random() * 2), 4326),
                      jsonb_build_object('depth_m', n % 17, 'kind', 'borehole'), 1
               FROM generate_series(1, :n) n"""
        ),
        {"area": area.id, "n": features},
    )
    key = issue_key(
        session, SYSTEM, areas=["bench"], organisation="bench", rate_limit="1000000/minute"
    ).key
    deep_after = session.execute(
        text("SELECT id::text FROM map_features ORDER BY id OFFSET :o LIMIT 1"),
        {"o": features - 2 * PAGE - 1},
    ).scalar_one()
    session.commit()
    session.execute(text("ANALYZE map_features"))
    session.commit()
    session.close()
    engine.dispose()
    return key, deep_after


def _pygeoapi_config(root: Path, url: str, port: int) -> Path:
    u = make_url(url)
    config = {
        "server": {
            "bind": {"host": "127.0.0.1", "port": port},
            "url": f"http://127.0.0.1:{port}",
            "mimetype": "application/json; charset=UTF-8",
            "encoding": "utf-8",
            "languages": ["en-US"],
            "limits": {"default_items": PAGE, "max_items": 10_000},
            "map": {"url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png", "attribution": "OSM"},
        },
        "logging": {"level": "ERROR"},
        "metadata": {
            "identification": {
                "title": "bench",
                "description": "bench",
                "keywords": ["bench"],
                "keywords_type": "theme",
                "terms_of_service": "none",
                "url": "http://localhost",
            },
            "license": {"name": "CC-BY 4.0", "url": "https://creativecommons.org/licenses/by/4.0/"},
            "provider": {"name": "bench", "url": "http://localhost"},
            "contact": {"name": "bench", "email": "bench@localhost"},
        },
        "resources": {
            "water_points": {
                "type": "collection",
                "title": "water points",
                "description": "the same table",
                "keywords": ["bench"],
                "extents": {
                    "spatial": {
                        "bbox": [36, -4, 38, -2],
                        "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
                    }
                },
                "providers": [
                    {
                        "type": "feature",
                        "name": "PostgreSQL",
                        "data": {
                            "host": u.host,
                            "port": u.port,
                            "dbname": u.database,
                            "user": u.username,
                            "password": u.password or "",
                            "search_path": ["public"],
                        },
                        "id_field": "id",
                        "table": "map_features",
                        "geom_field": "geom",
                    }
                ],
            }
        },
    }
    path = root / "pygeoapi.yml"
    path.write_text(json.dumps(config))  # JSON is YAML
    return path


def _pygeoapi(root: Path, url: str):
    port = free_port()
    config = _pygeoapi_config(root, url, port)
    openapi = root / "pygeoapi-openapi.yml"
    env = os.environ | {"PYGEOAPI_CONFIG": str(config), "PYGEOAPI_OPENAPI": str(openapi)}
    generated = subprocess.run(
        [BIN / "pygeoapi", "openapi", "generate", str(config), "--output-file", str(openapi)],
        env=env,
        check=False,
        capture_output=True,
        text=True,
    )
    if generated.returncode != 0:
        raise RuntimeError("pygeoapi openapi generate failed:\n" + generated.stderr[-3000:])
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--threads",
            "4",
            "pygeoapi.flask_app:APP",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(base + "/collections?f=json", timeout=5)  # noqa: S310
            return server, base
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                raise RuntimeError("pygeoapi did not become ready") from None
            time.sleep(0.3)


def _timed(url: str, headers: dict | None = None) -> tuple[float, int]:
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 (loopback)
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=300) as response:  # noqa: S310
        body = json.load(response)
    return time.perf_counter() - started, len(body["features"])


def _median(url: str, runs: int, headers=None) -> float:
    for _ in range(4):  # warm every worker (connections, caches), for both servers alike
        _timed(url, headers)
    times = []
    for _ in range(runs):
        seconds, n = _timed(url, headers)
        assert n == PAGE, f"{url}: {n} features, expected {PAGE}"
        times.append(seconds)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--features", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with database() as (root, url):
        key, deep_after = _setup(url, args.features)
        deep_offset = args.features - 2 * PAGE
        print(f"bench: {args.features} features; pages of {PAGE}; first and from {deep_offset}")
        auth = {"Authorization": f"Bearer {key}"}
        ours, theirs = {}, {}
        with served(url, root) as base:
            items = f"{base}/ogc/collections/bench.layer-water_point/items?limit={PAGE}&f=json"
            ours["first"] = _median(items, args.runs, auth)
            ours["deep"] = _median(f"{items}&after={deep_after}", args.runs, auth)
        server, base = _pygeoapi(root, url)
        try:
            items = f"{base}/collections/water_points/items?limit={PAGE}&f=json"
            theirs["first"] = _median(items, args.runs)
            theirs["deep"] = _median(f"{items}&offset={deep_offset}", args.runs)
        finally:
            server.terminate()
            server.wait(timeout=30)
    ratios = {page: theirs[page] / ours[page] for page in ours}
    for page in ours:
        print(
            f"{page:5} page: ours {ours[page] * 1000:7.1f} ms ({PAGE / ours[page]:8.0f} features/s)"
            f" | pygeoapi {theirs[page] * 1000:7.1f} ms ({PAGE / theirs[page]:8.0f} features/s)"
            f" = {ratios[page]:.2f} × (goal >= 3)"
        )
    print(
        json.dumps(
            {
                "metric": "ogc_items_throughput_vs_pygeoapi",
                "value": round(min(ratios.values()), 2),
                "goal": 3,
                "unit": "ratio of throughput (ours / pygeoapi, slower page)",
                "pages": {
                    p: {
                        "ours_ms": round(ours[p] * 1000, 1),
                        "pygeoapi_ms": round(theirs[p] * 1000, 1),
                    }
                    for p in ours
                },
            }
        )
    )


if __name__ == "__main__":
    main()
