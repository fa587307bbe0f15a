"""Proof under faults: the same 500-report batch with photos, through a proxy that cuts
connections at random byte offsets, sent until it gets through, ends as exactly 500 reports and
their photos, none twice, every hash matching."""

from __future__ import annotations

import hashlib
import http.client
import os
import random
import subprocess
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlparse

import psycopg

from sync.device.client import DeviceClient
from tests.faults import FaultyProxy
from tests.live import BIN


def test_500_reports_with_photos_through_a_link_that_keeps_dropping(live_server, tmp_path):
    code = subprocess.run(
        [BIN / "rangersync", "device", "enrol", "--area", "demo", "--user", "daudi"],
        env=live_server.env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    token = live_server.http.json("POST", "/api/v1/devices/enrol", {"code": code})[1]["token"]
    target = urlparse(live_server.url)
    proxy = FaultyProxy((target.hostname, target.port), cut_probability=0.35, seed=11)
    rng = random.Random(12)
    client = DeviceClient(
        proxy.url,
        token,
        tmp_path / "outbox.db",
        retries=40,
        backoff_s=0.001,
        sleep=lambda s: None,
        rng=rng,
        max_records_per_push=500,
        upload_chunk=16 * 1024,
        timeout_s=10,
    )
    started = datetime.now(UTC) - timedelta(hours=3)
    photos = {}
    report_ids = []
    for i in range(500):
        report_id = client.record_report(
            "poaching.snare",
            {"type": "Point", "coordinates": [37.5 + i / 10_000, -3.4]},
            started + timedelta(seconds=20 * i),
            attributes={"snare_type": "wire", "count": 1 + i % 5},
        )
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
        stored = conn.execute(
            "SELECT id::text, count(*) OVER () FROM reports WHERE id = ANY(%s::uuid[])",
            (report_ids,),
        ).fetchall()
        assert len(stored) == 500 and {r[0] for r in stored} == set(report_ids)
        attachments = dict(
            conn.execute(
                "SELECT id::text, sha256 FROM attachments WHERE id = ANY(%s::uuid[]) AND state = 'stored'",
                (list(photos),),
            ).fetchall()
        )
    assert attachments == photos
    store = live_server.env["RANGERSYNC_VAR_DIR"] + "/evidence/sha256"
    for sha in photos.values():
        with open(f"{store}/{sha[:2]}/{sha[2:4]}/{sha}", "rb") as f:
            assert hashlib.sha256(f.read()).hexdigest() == sha


def test_a_server_killed_after_commit_loses_and_duplicates_nothing(live_servers, tmp_path):
    """A failpoint kills the worker after the commit, before the answer, half the time; over 100
    pushes of random size, retried until answered, the server holds exactly the records sent."""
    # A server of its own: the failpoint is a setting of the server process, and it would kill
    # the shared server's workers under every other test.
    server = live_servers.start(
        "failpoint", extra_env={"RANGERSYNC_FAILPOINTS": "push.after_commit=0.5"}
    )
    try:
        code = subprocess.run(
            [BIN / "rangersync", "device", "enrol", "--area", "demo", "--user", "eliya"],
            env=server.env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        token = server.http.json("POST", "/api/v1/devices/enrol", {"code": code})[1]["token"]
        rng = random.Random(21)
        history: dict[str, str] = {}  # record id → sent / acknowledged / indeterminate
        kills = 0
        client = DeviceClient(server.url, token, tmp_path / "outbox.db", retries=0, timeout_s=10)
        for trial in range(100):
            batch = [
                client.record_report(
                    "wildlife_sighting",
                    {"type": "Point", "coordinates": [37.55, -3.41]},
                    datetime.now(UTC) - timedelta(minutes=5),
                    attributes={"species": "zebra", "count": 1 + trial},
                )
                for _ in range(rng.randint(1, 12))
            ]
            history.update(dict.fromkeys(batch, "sent"))
            for _attempt in range(60):
                if not client.pending():
                    break
                try:
                    client.sync()
                except (OSError, http.client.HTTPException):
                    kills += 1
                    history.update({i: "indeterminate" for i in batch if history[i] == "sent"})
                    time.sleep(0.05)
            assert not client.pending(), f"trial {trial}: still not through after 60 tries"
            history.update(dict.fromkeys(batch, "acknowledged"))
        assert kills > 20, "the failpoint should have fired often"
        with psycopg.connect(server.env["DATABASE_URL"].replace("+psycopg", "")) as conn:
            rows = [
                r
                for (r,) in conn.execute(
                    "SELECT id::text FROM reports WHERE id = ANY(%s::uuid[])", (list(history),)
                )
            ]
        acknowledged = {i for i, state in history.items() if state == "acknowledged"}
        assert len(rows) == len(set(rows))  # no duplicates
        assert acknowledged <= set(rows) <= set(history)  # acknowledged ⊆ stored ⊆ sent
        assert set(rows) == set(history)  # and, retried to the end, nothing lost
    finally:
        live_servers.stop(server)


def test_an_8_mb_photo_over_a_throttled_link_that_resets_every_256_kb(live_server, tmp_path):
    """Each 1 MB chunk is cut after about 256 KB; the server keeps what arrived, the client asks
    where the upload stands and sends only the rest: at most one chunk re-sent per reset."""
    code = subprocess.run(
        [BIN / "rangersync", "device", "enrol", "--area", "demo", "--user", "neema"],
        env=live_server.env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    token = live_server.http.json("POST", "/api/v1/devices/enrol", {"code": code})[1]["token"]
    chunk = 1024 * 1024
    target = urlparse(live_server.url)
    proxy = FaultyProxy(
        (target.hostname, target.port),
        reset_every=256 * 1024,
        rate_bytes_per_s=8 * 1024 * 1024,
        seed=5,
    )
    slow = DeviceClient(
        proxy.url,
        token,
        tmp_path / "outbox.db",
        upload_chunk=chunk,
        retries=60,
        backoff_s=0.01,
        timeout_s=20,
    )
    report_id = slow.record_report(
        "poaching.carcass",
        {"type": "Point", "coordinates": [37.52, -3.41]},
        datetime.now(UTC),
        attributes={"species": "elephant", "cause": "poaching_gunshot"},
    )
    photo = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + os.urandom(8 * 1024 * 1024)
    attachment_id = slow.declare_attachment(report_id, photo, "image/jpeg")
    try:
        outcome = slow.sync()  # the small push and pull pass; the photo's chunks are cut
    finally:
        proxy.close()
    assert outcome.pushed == {"stored": 2} and outcome.uploaded == 1
    assert slow.pending() == 0
    assert proxy.cuts >= 25, "the link should have reset about every 256 KB"
    resent = proxy.bytes_up - len(photo) - proxy.connections * 1024  # less each request's headers
    print(
        f"8 MB photo: {proxy.cuts} resets, {proxy.connections} connections, "
        f"{proxy.bytes_up - len(photo)} bytes beyond the photo went up"
    )
    assert resent <= proxy.cuts * chunk, f"{resent} bytes re-sent over {proxy.cuts} resets"
    with psycopg.connect(live_server.env["DATABASE_URL"].replace("+psycopg", "")) as conn:
        state, sha = conn.execute(
            "SELECT state, sha256 FROM attachments WHERE id = %s", (attachment_id,)
        ).fetchone()
    assert (state, sha) == ("stored", hashlib.sha256(photo).hexdigest())
    with open(
        f"{live_server.env['RANGERSYNC_VAR_DIR']}/evidence/sha256/{sha[:2]}/{sha[2:4]}/{sha}", "rb"
    ) as f:
        assert f.read() == photo
