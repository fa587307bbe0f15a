"""Links that drop inside an answer: cuts in status lines and headers, not only in bodies.

The reference client and the simulator, through a proxy that cuts there, take a cut answer for
no answer and ask again: every record and photo ends stored once, the map package installed,
and the command line ends with a sentence, never a traceback."""

from __future__ import annotations

import hashlib
import os
import random
import re
import subprocess
from datetime import UTC, datetime, timedelta
from urllib.parse import urlparse

import psycopg

from sync.device.client import DeviceClient
from sync.device.mappack import MapPackUpdater
from sync.protocol.tracks import Fix
from tests.faults import FaultyProxy
from tests.live import BIN

STATUS_AND_ONE_HEADER = len(b"HTTP/1.1 204 NO CONTENT\r\nServer: gunicorn\r\n")


def _enrol(live_server, user: str) -> tuple[str, str]:
    code = subprocess.run(
        [BIN / "rangersync", "device", "enrol", "--area", "demo", "--user", user],
        env=live_server.env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    enrolled = live_server.http.json("POST", "/api/v1/devices/enrol", {"code": code})[1]
    return enrolled["token"], enrolled["device_id"]


def _proxy(live_server, **options) -> FaultyProxy:
    target = urlparse(live_server.url)
    return FaultyProxy((target.hostname, target.port), **options)


def _db(live_server):
    return psycopg.connect(live_server.env["DATABASE_URL"].replace("+psycopg", ""))


def test_a_tus_answer_cut_after_its_status_line_is_asked_again(live_server, tmp_path):
    """The field crash: `204` arrived, its Upload-Offset header did not (int(None))."""
    token, _ = _enrol(live_server, "daudi")
    patches = {"cut": 0}

    def cut_patch_answers(request: bytes) -> int | None:
        if request.startswith(b"PATCH") and patches["cut"] < 3:
            patches["cut"] += 1
            return STATUS_AND_ONE_HEADER
        return None

    proxy = _proxy(live_server, cut_probability=0, rule=cut_patch_answers)
    client = DeviceClient(
        proxy.url, token, tmp_path / "outbox.db", upload_chunk=16 * 1024, sleep=lambda s: None
    )
    report_id = client.record_report(
        "poaching.snare",
        {"type": "Point", "coordinates": [37.52, -3.41]},
        datetime.now(UTC) - timedelta(minutes=5),
        attributes={"snare_type": "wire", "count": 1},
    )
    photo = b"\xff\xd8\xff\xe0" + os.urandom(100_000)
    attachment_id = client.declare_attachment(report_id, photo, "image/jpeg")
    try:
        outcome = client.sync()
    finally:
        proxy.close()
    assert patches["cut"] == 3
    assert outcome.uploaded == 1 and client.pending() == 0
    with _db(live_server) as conn:
        state, sha = conn.execute(
            "SELECT state, sha256 FROM attachments WHERE id = %s", (attachment_id,)
        ).fetchone()
    assert (state, sha) == ("stored", hashlib.sha256(photo).hexdigest())


def test_client_through_cuts_in_status_lines_and_headers_stores_everything_once(
    live_server, tmp_path
):
    token, device_id = _enrol(live_server, "neema")
    built = subprocess.run(
        [BIN / "rangersync", "mappack", "build", "--area", "demo", "--max-zoom", "12"],
        env=live_server.env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "layers.mbtiles" in built
    proxy = _proxy(live_server, cut_probability=0.4, head_share=0.7, seed=3)
    rng = random.Random(4)
    client = DeviceClient(
        proxy.url,
        token,
        tmp_path / "outbox.db",
        retries=30,
        sleep=lambda s: None,
        rng=rng,
        max_records_per_push=20,
        chunk_size=50,
        upload_chunk=8 * 1024,
        timeout_s=10,
    )
    began = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    patrol_id = client.start_patrol(started_at=began, armed=True)
    for k in range(300):
        client.record_fix(
            patrol_id, Fix(37.5 + k * 0.0002, -3.4, began + timedelta(seconds=20 * k), 5.0)
        )
    reports, photos = [], {}
    for i in range(60):
        report_id = client.record_report(
            "wildlife_sighting",
            {"type": "Point", "coordinates": [37.5 + i / 1000, -3.41]},
            began + timedelta(minutes=i),
            attributes={"species": "zebra", "count": 1 + i},
        )
        reports.append(report_id)
        if i % 6 == 0:
            photo = b"\xff\xd8\xff\xe0" + os.urandom(rng.randint(2_000, 30_000))
            photos[client.declare_attachment(report_id, photo, "image/jpeg")] = hashlib.sha256(
                photo
            ).hexdigest()
    try:
        for _ in range(10):
            try:
                client.sync()
            except ConnectionError:  # no whole answer after every retry: sync again, as a device
                continue
            if client.pending() == 0:
                break
        sos = client.send_sos(device_id, 37.52, -3.41, "cut test", attempts=30)
        updater = MapPackUpdater(
            proxy.url, token, tmp_path / "maps", chunk_bytes=4096, sleep=lambda s: None, retries=30
        )
        installed = updater.update(client.scope("map_package"))
    finally:
        proxy.close()
    assert client.pending() == 0
    assert proxy.head_cuts >= 10, f"only {proxy.head_cuts} cuts landed in status lines/headers"
    assert sos.channel == "http"
    assert installed.action == "full" and updater.installed() is not None
    with _db(live_server) as conn:
        stored = conn.execute(
            "SELECT count(*), count(DISTINCT id) FROM reports WHERE id = ANY(%s::uuid[])",
            (reports,),
        ).fetchone()
        fixes = conn.execute(
            "SELECT count(*), count(DISTINCT seq) FROM track_points WHERE patrol_id = %s",
            (patrol_id,),
        ).fetchone()
        held = dict(
            conn.execute(
                "SELECT id::text, sha256 FROM attachments WHERE id = ANY(%s::uuid[])"
                " AND state = 'stored'",
                (list(photos),),
            ).fetchall()
        )
    assert stored == (60, 60)
    assert fixes == (300, 300)
    assert held == photos


def _simulate(url: str, env: dict, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            BIN / "rangersync",
            "simulate",
            "--server",
            url,
            "--devices",
            "2",
            "--hours",
            "1",
            "--photos",
            "1",
            *extra,
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def test_the_simulator_through_cuts_in_headers_finishes_with_everything_stored(
    live_server, tmp_path
):
    signed_in = {"cut": 0}

    def cut_sign_in_and_more(request: bytes) -> int | None:
        if request.startswith(b"POST /api/v1/auth/token") and signed_in["cut"] < 2:
            signed_in["cut"] += 1
            return 30  # inside the headers: no body ever comes
        return None

    proxy = _proxy(live_server, cut_probability=0.3, head_share=0.7, seed=8)
    proxy.rule = cut_sign_in_and_more
    try:
        result = _simulate(proxy.url, live_server.env, "--seed", "5")
    finally:
        proxy.close()
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 0, result.stdout + result.stderr
    assert signed_in["cut"] == 2
    assert "0 still pending" in result.stdout
    sent, acknowledged, taken, uploaded = map(
        int,
        re.search(
            r"(\d+) records sent, (\d+) acknowledged; (\d+) photos taken, (\d+) uploaded",
            result.stdout,
        ).groups(),
    )
    assert sent == acknowledged and taken == uploaded > 0
    assert "conflict" not in result.stdout and "rejected" not in result.stdout


def test_the_simulator_gives_up_with_a_sentence_not_a_traceback(live_server, tmp_path):
    proxy = _proxy(live_server, cut_probability=1.0, head_share=1.0, seed=9)
    try:
        result = _simulate(proxy.url, live_server.env, "--devices", "1")
    finally:
        proxy.close()
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr
    assert "no whole answer from the server after every retry" in result.stderr
