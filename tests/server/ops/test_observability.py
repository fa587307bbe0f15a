"""Metrics, request ids and structured logs on a real `rangersync serve` (gunicorn, two worker
processes, multiprocess metrics) and a real `rangersync worker`, scraped and read as an operator's
Prometheus and log shipper would."""

from __future__ import annotations

import json
import re
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from sqlalchemy.orm import Session

from server.core.db import make_engine
from server.core.pgcluster import free_port
from server.demo.seed import DEMO_PASSWORD
from sync.device.simulate import run_fleet
from tests.live import BIN
from tests.server.ops.helpers import Installation, open_dir

pytestmark = pytest.mark.slow
RULES = Path(__file__).resolve().parents[3] / "deploy" / "prometheus" / "rangersync-alerts.yml"


@pytest.fixture(scope="module")
def park() -> Iterator[Installation]:
    installation = Installation(open_dir("rangersync-metrics-"))
    installation.server = installation.serve()
    installation.engine = make_engine(installation.cluster.url())
    yield installation
    installation.server.stop()
    installation.engine.dispose()
    installation.destroy()


def manager_token(park: Installation) -> str:
    status, body = park.server.http.json(
        "POST", "/api/v1/auth/token", {"username": "manager", "password": DEMO_PASSWORD}
    )
    assert status == 201
    return body["access_token"]


def enrol_device(park: Installation, token: str) -> dict:
    status, code = park.server.http.json(
        "POST", "/api/v1/areas/demo/enrolment-codes", {"username": "amani"}, token
    )
    assert status == 201
    status, device = park.server.http.json(
        "POST", "/api/v1/devices/enrol", {"code": code["code"], "app_version": "t-1"}
    )
    assert status in (200, 201)
    return device


def scrape(park: Installation) -> dict[tuple[str, tuple], float]:
    status, headers, raw = park.server.http("GET", "/metrics")
    assert status == 200 and headers["Content-Type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(raw.decode())
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def total(samples: dict, name: str, **labels: str) -> float:
    """Summed over every label not given."""
    return sum(
        v
        for (n, ls), v in samples.items()
        if n == name and all(dict(ls).get(k) == want for k, want in labels.items())
    )


def test_requests_are_counted_over_all_worker_processes(park):
    token = manager_token(park)
    before = scrape(park)
    for _ in range(30):
        assert park.server.http("GET", "/api/v1/areas", token=token)[0] == 200
    assert park.server.http("GET", "/api/v1/areas")[0] == 401
    after = scrape(park)

    key = {"method": "GET", "endpoint": "/api/v1/areas"}
    name = "rangersync_http_requests_total"
    assert value(after, name, **key, status="200") - value(before, name, **key, status="200") == 30
    assert value(after, name, **key, status="401") - value(before, name, **key, status="401") == 1
    latency = "rangersync_http_request_duration_seconds_count"
    assert value(after, latency, **key) - value(before, latency, **key) == 31
    assert value(after, "rangersync_database_up") == 1


def test_pushes_count_records_and_fixes_by_verdict(park):
    before = scrape(park)
    workdir = open_dir("rangersync-fleet-")
    result = run_fleet(
        park.server.url,
        password=DEMO_PASSWORD,
        devices=1,
        hours=0.25,
        photo_rate=0,
        workdir=workdir,
        say=lambda _: None,
    )
    assert result.complete
    after = scrape(park)
    for verdict, n in result.verdicts.items():
        counted = "rangersync_push_records_total"
        assert total(after, counted, verdict=verdict) - total(before, counted, verdict=verdict) == n
    fixes = "rangersync_push_fixes_total"
    assert value(after, fixes, outcome="new") - value(before, fixes, outcome="new") == result.fixes


def test_tile_cache_hits_and_misses_are_counted_per_process(park):
    token = manager_token(park)
    before = scrape(park)
    for _ in range(8):
        assert park.server.http("GET", "/tiles/boundary/10/617/518.mvt", token=token)[0] in (
            200,
            204,
        )
    after = scrape(park)
    name = "rangersync_tile_cache_requests_total"
    delta = {
        r: value(after, name, result=r) - value(before, name, result=r) for r in ("hit", "miss")
    }
    # Each of the two processes renders the tile once at most, then serves it from its cache.
    assert delta["hit"] + delta["miss"] == 8 and delta["miss"] <= 2 and delta["hit"] >= 6


def test_silent_devices_are_counted_per_area(park):
    before = scrape(park)
    device = enrol_device(park, manager_token(park))
    middle = scrape(park)
    silent = "rangersync_devices_silent"
    assert value(middle, silent, area="demo") == value(before, silent, area="demo")
    assert value(middle, "rangersync_devices_active", area="demo") == (
        value(before, "rangersync_devices_active", area="demo") + 1
    )
    with Session(park.engine) as session:  # two days without a word
        session.execute(
            text(
                "UPDATE devices SET last_seen_at = now() - interval '2 days',"
                " enrolled_at = now() - interval '3 days' WHERE id = :id"
            ),
            {"id": device["device_id"]},
        )
        session.commit()
    after = scrape(park)
    assert value(after, silent, area="demo") == value(before, silent, area="demo") + 1


def test_a_request_id_reaches_the_access_log_and_the_worker_job_it_causes(park):
    token = manager_token(park)
    closed_port = free_port()  # nothing listens: the webhook delivery fails and is logged
    status, _ = park.server.http.json(
        "PATCH",
        "/api/v1/areas/demo/safety-settings",
        {"notify_webhooks": [f"http://127.0.0.1:{closed_port}/hook"]},
        token,
    )
    assert status == 200
    request_id = f"probe-{uuid.uuid4().hex}"
    status, headers, _ = park.server.http("GET", "/api/v1/areas", token=token)
    assert status == 200 and len(headers["X-Request-ID"]) == 32  # made here when none is sent

    device = enrol_device(park, token)
    body = {
        "counter": 1,
        "position": {"type": "Point", "coordinates": [37.2, -3.4]},
        "sent_at": datetime.now(UTC).isoformat(),
        "text": "Ambushed near the river",
    }
    request = urllib.request.Request(  # noqa: S310 (loopback)
        f"{park.server.url}/api/v1/sos",
        data=json.dumps(body).encode(),
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Bearer {device['token']}",
            "X-Request-ID": request_id,
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        assert response.status in (200, 201)
        assert response.headers["X-Request-ID"] == request_id

    access = [json.loads(line) for line in _json_lines(park.server.log)]
    mine = [e for e in access if e.get("request_id") == request_id]
    assert any(
        e["logger"] == "rangersync.access"
        and e["status"] in (200, 201)
        and e["endpoint"] == "/api/v1/sos"
        for e in mine
    ), mine

    with Session(park.engine) as session:
        job_ids = session.scalars(
            text(
                "SELECT args ->> 'request_id' FROM procrastinate.procrastinate_jobs"
                " WHERE task_name = 'deliver_notification'"
            )
        ).all()
    assert request_id in job_ids

    log = park.root / "worker.log"
    with open(log, "w") as out:
        worker = subprocess.Popen(
            [BIN / "rangersync", "worker", "--concurrency", "1"],
            env=park.env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            entries = [json.loads(line) for line in _json_lines(log)]
            worked = [e for e in entries if e.get("request_id") == request_id]
            if worked:
                break
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.5)
        assert worked[0]["logger"] == "server.notify.delivery"
        assert "attempt" in worked[0]["message"]
        samples = scrape(park)
        assert value(samples, "rangersync_workers_alive") >= 1
        assert value(samples, "rangersync_notifications", kind="sos", state="pending") >= 1
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def _json_lines(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if line.startswith("{")]


def test_every_alert_rule_reads_metrics_the_server_exposes(park):
    """The sample rules are YAML Prometheus accepts in shape, and name no metric we do not serve
    (a typo in an alert is an alert that never fires)."""
    rules = yaml.safe_load(RULES.read_text())
    exposed = {name for name, _ in scrape(park)}
    exposed |= {"rangersync_backup_last_success_timestamp_seconds"}  # absent until a backup ran
    exposed |= {"rangersync_push_gate_refused_total", "rangersync_notification_attempts_total"}
    exposed |= {"rangersync_worker_jobs_total"}  # counted by the worker, on its own port
    names = []
    for group in rules["groups"]:
        for rule in group["rules"]:
            assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}
            assert rule["labels"]["severity"] in {"page", "warning", "info"}
            names += [word for word in _identifiers(rule["expr"]) if word.startswith("rangersync_")]
    assert names
    missing = {
        n
        for n in names
        if n not in exposed
        and n.removesuffix("_bucket") not in {"rangersync_http_request_duration_seconds"}
    }
    assert not missing, missing


def _identifiers(expr: str) -> list[str]:
    return re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", expr)
