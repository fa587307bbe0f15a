"""Proof under faults: the same 500-report batch with photos, through a proxy that cuts
connections at random byte offsets, sent until it gets through, ends as exactly 500 reports and
their photos, none twice, every hash matching."""

from __future__ import annotations

import hashlib
import os
import random
import subprocess
from datetime import UTC, datetime, timedelta
from urllib.parse import urlparse

import psycopg

from sync.client import DeviceClient
from tests.faults import FaultyProxy
from tests.live import BIN


def test_500_reports_with_photos_through_a_link_that_keeps_dropping(live_server, tmp_path):
    code = subprocess.run([BIN / "rangersync", "device", "enrol", "--area", "demo", "--user", "daudi"],
                          env=live_server.env, capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    token = live_server.http.json("POST", "/api/v1/devices/enrol", {"code": code})[1]["token"]
    target = urlparse(live_server.url)
    proxy = FaultyProxy((target.hostname, target.port), cut_probability=0.35, seed=11)
    rng = random.Random(12)
    client = DeviceClient(proxy.url, token, tmp_path / "outbox.db", retries=40, backoff_s=0.001,
                          sleep=lambda s: None, rng=rng, max_records_per_push=500,
                          upload_chunk=16 * 1024, timeout_s=10)  # fmt: skip
    started = datetime.now(UTC) - timedelta(hours=3)
    photos = {}
    report_ids = []
    for i in range(500):
        report_id = client.record_report(
            "poaching.snare", {"type": "Point", "coordinates": [37.5 + i / 10_000, -3.4]},
            started + timedelta(seconds=20 * i), attributes={"snare_type": "wire", "count": 1 + i % 5},
        )  # fmt: skip
        report_ids.append(report_id)
        if i % 10 == 0:  # 50 photos, 2 to 60 KB each
            photo = b"\xff\xd8\xff\xe0" + os.urandom(rng.randint(2_000, 60_000))
            photos[client.declare_attachment(report_id, photo, "image/jpeg")] = hashlib.sha256(
                photo
            ).hexdigest()
    try:
        for _ in range(10):  # the device keeps trying until everything is through
            try:
                client.sync()
            except OSError:
                continue
            if client.pending() == 0:
                break
    finally:
        proxy.close()
    assert client.pending() == 0
    assert proxy.cuts > 5, "the link should really have dropped"
    with psycopg.connect(live_server.env["DATABASE_URL"].replace("+psycopg", "")) as conn:
        stored = conn.execute("SELECT id::text, count(*) OVER () FROM reports WHERE id = ANY(%s::uuid[])",
                              (report_ids,)).fetchall()  # fmt: skip
        assert len(stored) == 500 and {r[0] for r in stored} == set(report_ids)
        attachments = dict(conn.execute(
            "SELECT id::text, sha256 FROM attachments WHERE id = ANY(%s::uuid[]) AND state = 'stored'",
            (list(photos),)).fetchall())  # fmt: skip
    assert attachments == photos
    store = live_server.env["RANGERSYNC_VAR_DIR"] + "/evidence/sha256"
    for sha in photos.values():
        with open(f"{store}/{sha[:2]}/{sha[2:4]}/{sha}", "rb") as f:
            assert hashlib.sha256(f.read()).hexdigest() == sha
