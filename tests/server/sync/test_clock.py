"""Clock correction: skew measured without the transfer time (the device's clock as it starts
sending against the server's as the headers arrive), times corrected only beyond the tolerance,
the device's own value always kept, GPS fix times never shifted (they come from satellites)."""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlparse

import psycopg
import pytest
from sqlalchemy import text

from sync.protocol import PROTOCOL_HEADER, PROTOCOL_VERSION, SENT_AT_HEADER
from tests import live
from tests.server.sync import helpers as h


def _one(db, sql: str, **params):
    return db.execute(text(sql), params).one()


def test_a_device_three_hours_off_is_corrected_and_its_own_times_kept(client, db):
    park = h.park(db)
    now = datetime.now(UTC).replace(microsecond=0)
    clock = now - timedelta(hours=3)  # the device's clock, three hours slow
    p = h.patrol(started_at=clock - timedelta(minutes=30))
    r = h.report(observed_at=(clock - timedelta(minutes=10)).isoformat())
    walk = h.fixes(5, start=now - timedelta(minutes=20))  # from the GPS: the true time
    response = h.push(
        client,
        park,
        [p, h.chunk(p["id"], 0, walk), r],
        device_time=clock,
        headers={SENT_AT_HEADER: clock.isoformat()},
    )
    body = response.get_json()
    assert h.verdicts(response) == ["stored"] * 3
    assert body["clock_suspect"] and body["clock_skew_s"] == pytest.approx(3 * 3600, abs=5)
    report = _one(db, "SELECT * FROM reports WHERE id = :r", r=r["id"])
    assert report.observed_at_device == clock - timedelta(minutes=10)  # as sent, kept
    assert abs((report.observed_at - (now - timedelta(minutes=10))).total_seconds()) < 5
    assert report.clock_suspect
    patrol = _one(db, "SELECT * FROM patrols WHERE id = :p", p=p["id"])
    assert patrol.started_at_device == clock - timedelta(minutes=30)
    assert abs((patrol.started_at - (now - timedelta(minutes=30))).total_seconds()) < 5
    fixes = db.execute(
        text("SELECT device_time, recorded_at FROM track_points WHERE patrol_id = :p ORDER BY seq"),
        {"p": p["id"]},
    ).all()
    assert (
        [f.recorded_at for f in fixes] == [f.device_time for f in fixes] == [w.time for w in walk]
    )


def test_a_right_clock_keeps_its_times_exactly(client, db):
    park = h.park(db)
    now = datetime.now(UTC)
    observed = (now - timedelta(minutes=7)).replace(microsecond=123000)
    r = h.report(observed_at=observed.isoformat())
    response = h.push(client, park, [r], headers={SENT_AT_HEADER: now.isoformat()})
    assert h.verdicts(response) == ["stored"] and not response.get_json()["clock_suspect"]
    report = _one(
        db, "SELECT observed_at, observed_at_device FROM reports WHERE id = :r", r=r["id"]
    )
    assert report.observed_at == report.observed_at_device == observed  # no noise added


def test_a_malformed_sent_at_is_refused_not_guessed(client, db):
    park = h.park(db)
    response = h.push(client, park, [h.report()], headers={SENT_AT_HEADER: "yesterday"})
    assert response.status_code == 422  # Invalid: a clear problem, nothing stored
    assert SENT_AT_HEADER in response.get_json()["detail"]


def test_gps_fix_times_from_a_unit_that_lost_its_clock_are_refused(client, db):
    park = h.park(db)
    p = h.patrol()
    walk = h.fixes(3, start=datetime(1901, 12, 13, 20, 45, 52, tzinfo=UTC))
    response = h.push(client, park, [p, h.chunk(p["id"], 0, walk)])
    result = response.get_json()["results"][1]
    assert (result["verdict"], result["code"]) == ("rejected", "time-out-of-range")


DELAY_S = 24  # the body trickles in over this long
TOLERANCE_S = 8  # ... on a server that flags clocks off by more than this


@pytest.fixture(scope="module")
def strict_server(live_servers):
    """A server of its own: a tolerance of a few seconds, so a slow body would show."""
    server = live_servers.start("clock", extra_env={"CLOCK_TOLERANCE_S": str(TOLERANCE_S)})
    yield server
    live_servers.stop(server)


def _slow_push(server, token: str, records: list[dict], with_sent_at: bool) -> dict:
    """A push whose headers go at once and whose body takes DELAY_S seconds to arrive, from a
    device whose clock is right: a real slow sender over a real socket."""
    start = datetime.now(UTC)
    body = json.dumps({"device_time": start.isoformat(), "records": records}).encode()
    target = urlparse(server.url)
    head = [
        "POST /api/v1/sync/push HTTP/1.1",
        f"Host: {target.netloc}",
        f"Authorization: Bearer {token}",
        f"{PROTOCOL_HEADER}: {PROTOCOL_VERSION}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        "Connection: close",
    ]
    if with_sent_at:
        head.append(f"{SENT_AT_HEADER}: {start.isoformat()}")
    with socket.create_connection((target.hostname, target.port), timeout=DELAY_S + 60) as s:
        s.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        pieces = 8
        for k in range(pieces):
            time.sleep(DELAY_S / pieces)
            s.sendall(body[k * len(body) // pieces : (k + 1) * len(body) // pieces])
        answer = b""
        while data := s.recv(65536):
            answer += data
    status, _, rest = answer.partition(b"\r\n")
    assert b" 200 " in status + b" ", answer[:500]
    return json.loads(rest.partition(b"\r\n\r\n")[2])


def test_a_slow_push_from_a_right_clock_keeps_its_times_to_the_second(strict_server, tmp_path):
    """The transfer (DELAY_S, three times the tolerance) is not clock skew: with the device's
    sending time in the header the report keeps its time; measured the old way (envelope time
    against the time the body was read) the same push looks DELAY_S off and is shifted."""
    code = subprocess.run(
        [live.BIN / "rangersync", "device", "enrol", "--area", "demo", "--user", "baraka"],
        env=strict_server.env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    token = strict_server.http.json("POST", "/api/v1/devices/enrol", {"code": code})[1]["token"]
    observed = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    measured, legacy = (
        h.report(observed_at=observed.isoformat()),
        h.report(observed_at=observed.isoformat()),
    )
    answers = {}
    threads = [
        threading.Thread(
            target=lambda k, r, w: answers.__setitem__(k, _slow_push(strict_server, token, [r], w)),
            args=(k, r, w),
        )
        for k, r, w in (("measured", measured, True), ("legacy", legacy, False))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers["measured"]["results"][0]["verdict"] == "stored"
    assert abs(answers["measured"]["clock_skew_s"]) < 2 and not answers["measured"]["clock_suspect"]
    assert answers["legacy"]["clock_skew_s"] > DELAY_S - 2 and answers["legacy"]["clock_suspect"]
    with psycopg.connect(strict_server.env["DATABASE_URL"].replace("+psycopg", "")) as conn:
        stored = dict(
            conn.execute(
                "SELECT id::text, observed_at FROM reports WHERE id = ANY(%s::uuid[])",
                ([measured["id"], legacy["id"]],),
            ).fetchall()
        )
    assert stored[measured["id"]] == observed  # to the second: not moved at all
    assert (stored[legacy["id"]] - observed).total_seconds() > DELAY_S - 2
