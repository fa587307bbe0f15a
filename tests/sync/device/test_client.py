"""The reference device client against a real server process: record offline, fail to reach the
server, sync, sync again, and keep everything when revoked."""

from __future__ import annotations

import random
import subprocess
from datetime import UTC, datetime

import psycopg
import pytest

from server.core.pgcluster import free_port
from sync.device.client import DeviceClient, SyncRefused
from sync.device.fieldsim import foot_patrol
from tests.helpers import wait_derived
from tests.live import BIN


def _cli(env, *args):
    return subprocess.run(
        [BIN / "rangersync", *args], env=env, capture_output=True, text=True, check=True
    ).stdout


@pytest.fixture
def device(live_server, tmp_path):
    code = _cli(live_server.env, "device", "enrol", "--area", "demo", "--user", "baraka").strip()
    enrolled = live_server.http.json("POST", "/api/v1/devices/enrol", {"code": code})[1]
    return enrolled


def test_record_offline_then_sync_exactly_once(live_server, device, tmp_path):
    waits = []
    offline = DeviceClient(
        f"http://127.0.0.1:{free_port()}",
        device["token"],
        tmp_path / "outbox.db",
        retries=3,
        sleep=waits.append,
        rng=random.Random(1),
    )
    patrol_id = offline.start_patrol(
        started_at=datetime(2026, 11, 23, 6, tzinfo=UTC), leader="baraka"
    )
    for fix in foot_patrol(
        (37.53, -3.362), datetime(2026, 11, 23, 6, tzinfo=UTC), 1000, random.Random(5)
    ):
        offline.record_fix(patrol_id, fix)
    for i in range(3):
        offline.record_report(
            "wildlife_sighting",
            {"type": "Point", "coordinates": [37.54, -3.37 - i / 1000]},
            datetime(2026, 11, 23, 7 + i, tzinfo=UTC),
            attributes={"species": "rhino", "count": 1},
            patrol_id=patrol_id,
        )
    with pytest.raises(ConnectionError):
        offline.sync()  # no server there: nothing lost, nothing marked
    assert len(waits) == 3 and waits[1] > waits[0] * 1.2  # backoff grows (with jitter)
    assert offline.pending() > 0

    client = DeviceClient(
        live_server.url, device["token"], tmp_path / "outbox.db", sleep=waits.append
    )
    report = client.sync()
    assert report.pushed == {"stored": 1 + 3 + 3}  # the patrol, 1 000 fixes in 3 chunks, 3 reports
    assert client.pending() == 0
    assert len(client.scope("zone")) == 4 and len(client.scope("report")) == 3
    again = client.sync()
    assert again.pushed == {} and again.pulled == 0


def test_a_revoked_device_keeps_its_unsynced_data(live_server, device, tmp_path):
    client = DeviceClient(live_server.url, device["token"], tmp_path / "outbox.db")
    client.sync()
    _cli(live_server.env, "device", "revoke", device["device_id"])
    client.record_report(
        "poaching.snare",
        {"type": "Point", "coordinates": [37.55, -3.4]},
        datetime(2026, 11, 23, 9, tzinfo=UTC),
        attributes={"snare_type": "wire", "count": 1},
    )
    with pytest.raises(SyncRefused) as refused:
        client.sync()
    assert (
        refused.value.status == 401 and refused.value.problem["type"] == "/problems/device-revoked"
    )
    assert client.pending() == 1  # still there, for when the device is enrolled again


def test_a_batch_the_server_refuses_whole_is_split_and_the_offender_set_aside(
    live_server, device, tmp_path
):
    """A record the server cannot even parse (NaN is no JSON) gets the whole push refused with a
    400. The client halves the batch until the offender is alone, marks it for attention with
    the server's reason, and sends the rest: the outbox never wedges behind it."""
    client = DeviceClient(
        live_server.url, device["token"], tmp_path / "outbox.db", max_records_per_push=4
    )
    made = []
    for i in range(6):
        made.append(
            client.record_report(
                "poaching.snare",
                {"type": "Point", "coordinates": [37.55, -3.4 - i / 1000]},
                datetime(2026, 11, 23, 9, i, tzinfo=UTC),
                attributes={"snare_type": "wire", "count": float("nan") if i == 2 else 1},
            )
        )
    report = client.sync()
    assert report.pushed == {"stored": 5, "rejected": 1}
    assert client.pending() == 0 and client.outbox_counts() == (6, 5)
    state, code = client.db.execute(
        "SELECT state, code FROM outbox WHERE id = ?", (made[2],)
    ).fetchone()
    assert (state, code) == ("needs_attention", "/problems/bad-request")
    assert client.sync().pushed == {}


GPX = """<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="Garmin GPSMAP 66" xmlns="http://www.topografix.com/GPX/1/1">
  <trk><name>North boundary sweep</name><trkseg>
{points}
  </trkseg></trk>
</gpx>
"""


def _gpx(tmp_path, points: str):
    path = tmp_path / "track.gpx"
    path.write_text(GPX.format(points=points))
    return path


def test_a_garmin_track_becomes_a_patrol_through_the_protocol(live_server, device, tmp_path):
    from sync.device.gpx import import_gpx

    start = datetime(2026, 11, 22, 5, 30, tzinfo=UTC).timestamp()
    fixes = foot_patrol(
        (37.60, -3.33), datetime(2026, 11, 22, 5, 30, tzinfo=UTC), 300, random.Random(8)
    )
    points = "\n".join(
        f'    <trkpt lat="{f.lat:.7f}" lon="{f.lon:.7f}"><ele>1180.4</ele>'
        f"<time>{datetime.fromtimestamp(start + 30 * i, UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}</time></trkpt>"
        for i, f in enumerate(fixes)
    )
    client = DeviceClient(live_server.url, device["token"], tmp_path / "outbox.db")
    (imported,), skipped = import_gpx(client, _gpx(tmp_path, points), leader="baraka")
    patrol_id = imported.patrol_id
    assert len(imported.track.fixes) == 300 and skipped == []
    report = client.sync()
    assert report.pushed == {"stored": 2}  # the patrol and one chunk of 300 fixes
    with psycopg.connect(live_server.env["DATABASE_URL"].replace("+psycopg", "")) as conn:
        wait_derived(conn)  # the line and figures follow the push
        row = conn.execute(
            "SELECT point_count, distance_m, objective FROM patrols WHERE id = %s", (patrol_id,)
        ).fetchone()
    assert row[0] == 300 and row[1] > 1000 and row[2] == "GPX: North boundary sweep"


@pytest.mark.parametrize(
    ("points", "message"),
    [
        ('<trkpt lat="-3.3" lon="37.6"></trkpt>', "none of its 1 points has a time"),
        ('<trkpt lat="-93" lon="37.6"><time>2026-11-22T05:30:00Z</time></trkpt>', "off the globe"),
        ('<trkpt lat="x" lon="37.6"><time>2026-11-22T05:30:00Z</time></trkpt>', "must be numbers"),
        ('<trkpt lat="-3.3" lon="37.6"><time>2026-11-22T05:30:00</time></trkpt>', "no time zone"),
    ],
)
def test_a_bad_gpx_track_is_skipped_with_the_place(tmp_path, points, message):
    from sync.device.gpx import read_gpx

    found = read_gpx(_gpx(tmp_path, points))
    assert found.tracks == []
    [skipped] = found.skipped
    assert skipped.what == "track 1 (North boundary sweep)" and message in skipped.reason


def test_gpx_with_entities_is_refused(tmp_path):
    from sync.device.gpx import GPXError, read_gpx

    path = tmp_path / "bomb.gpx"
    path.write_text('<?xml version="1.0"?><!DOCTYPE gpx [<!ENTITY a "aaaaaaaaaa">]><gpx>&a;</gpx>')
    with pytest.raises(GPXError, match="no DTD"):
        read_gpx(path)


def test_gpx_import_command(live_server, device, tmp_path):
    start = datetime(2026, 11, 21, 6, 0, tzinfo=UTC).timestamp()
    points = "\n".join(
        f'<trkpt lat="{-3.35 - i / 20000:.6f}" lon="{37.6 + i / 20000:.6f}">'
        f"<time>{datetime.fromtimestamp(start + 30 * i, UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}</time></trkpt>"
        for i in range(50)
    )
    path = _gpx(tmp_path, points)
    result = subprocess.run(
        [
            BIN / "rangersync",
            "gpx",
            "import",
            str(path),
            "--server",
            live_server.url,
            "--token-stdin",
            "--outbox",
            str(tmp_path / "gpx.db"),
        ],
        input=device["token"] + "\n",
        env=live_server.env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "track.gpx: track 1 (North boundary sweep): patrol" in result.stdout
    assert "50 fixes" in result.stdout and "1 of 1 tracks stored" in result.stdout
    assert "0 still pending" in result.stdout


def test_sign_out_and_another_ranger_signing_in_lose_nothing(live_server, device, tmp_path):
    """Each record goes up with the account that made it; signing out deletes nothing, and a
    revoked earlier account keeps its records without holding back the signed-in ranger's."""
    from sync.device.client import NotSignedIn
    from sync.device.photos import photo

    code = _cli(live_server.env, "device", "enrol", "--area", "demo", "--user", "daudi").strip()
    other = live_server.http.json("POST", "/api/v1/devices/enrol", {"code": code})[1]
    client = DeviceClient(live_server.url, device["token"], tmp_path / "outbox.db")
    when = datetime(2026, 11, 23, 7, tzinfo=UTC)
    patrol = client.start_patrol(started_at=when)
    for fix in foot_patrol((37.55, -3.40), when, 40, random.Random(3)):
        client.record_fix(patrol, fix)
    first = client.record_report(
        "poaching.snare",
        {"type": "Point", "coordinates": [37.55, -3.4]},
        when,
        patrol_id=patrol,
        attributes={"snare_type": "wire", "count": 2},
    )
    client.declare_attachment(first, photo(30_000, random.Random(4)), "image/jpeg")
    client.sign_out()
    with pytest.raises(NotSignedIn):
        client.record_report("poaching.snare", {"type": "Point", "coordinates": [37.5, -3.4]}, when)
    assert client.pending() == 44  # patrol, report, attachment, its photo, 40 fixes: all kept

    client.sign_in(other["token"])
    second = client.record_report(
        "poaching.snare",
        {"type": "Point", "coordinates": [37.56, -3.41]},
        when,
        attributes={"snare_type": "wire", "count": 1},
    )
    outcome = client.sync()
    assert outcome.pushed == {"stored": 5} and outcome.uploaded == 1 and client.pending() == 0
    with psycopg.connect(live_server.env["DATABASE_URL"].replace("+psycopg", "")) as conn:
        made_by = dict(
            conn.execute(
                "SELECT r.id::text, u.username FROM reports r JOIN users u ON u.id = r.reported_by"
                " WHERE r.id = ANY(%s::uuid[])",
                ([first, second],),
            ).fetchall()
        )
        points = conn.execute(
            "SELECT count(*) FROM track_points WHERE patrol_id = %s", (patrol,)
        ).fetchone()[0]
    assert made_by == {first: "baraka", second: "daudi"} and points == 40

    third = client.record_report(
        "poaching.snare",
        {"type": "Point", "coordinates": [37.57, -3.42]},
        when,
        attributes={"snare_type": "wire", "count": 3},
    )
    client.sign_in(device["token"])
    _cli(live_server.env, "device", "revoke", other["device_id"])
    fourth = client.record_report(
        "poaching.snare",
        {"type": "Point", "coordinates": [37.58, -3.43]},
        when,
        attributes={"snare_type": "wire", "count": 4},
    )
    with pytest.raises(SyncRefused) as refused:
        client.sync()
    assert refused.value.status == 401
    states = dict(
        client.db.execute("SELECT id, state FROM outbox WHERE id IN (?, ?)", (third, fourth))
    )
    assert states == {third: "pending", fourth: "synced"}  # the revoked account's report is kept


def test_a_busy_server_is_waited_for_as_it_asks_without_spending_the_retry_budget(tmp_path):
    """503 + Retry-After twelve times, then an answer: the client waits as asked each time
    (with jitter), though its retry budget for dropped links is 2."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    answers = iter([503] * 12 + [200])

    class Busy(BaseHTTPRequestHandler):
        def do_GET(self):
            status = next(answers)
            body = json.dumps(
                {"changes": [], "cursor": "c", "more": False}
                if status == 200
                else {"type": "/problems/server-busy"}
            ).encode()
            self.send_response(status)
            if status == 503:
                self.send_header("Retry-After", "3")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Busy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    slept: list[float] = []
    try:
        client = DeviceClient(
            f"http://127.0.0.1:{server.server_port}",
            "rsd_test",
            tmp_path / "outbox.db",
            retries=2,
            sleep=slept.append,
        )
        assert client.sync().pulled == 0
    finally:
        server.shutdown()
    assert len(slept) == 12 and all(3 <= s <= 4.5 for s in slept)  # as asked, plus jitter
