"""GPX files as units write them: timed tracks imported (times in any order), untimed tracks and
routes skipped with the reason, every refusal of the server printed with its code, and a non-zero
exit when nothing was stored."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from sync.device.gpx import read_gpx
from tests.helpers import wait_derived
from tests.live import BIN

DATA = Path(__file__).parent / "data"
START = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)


def _trkpt(lat: float, lon: float, at: datetime | None) -> str:
    time = f"<time>{at.strftime('%Y-%m-%dT%H:%M:%SZ')}</time>" if at else ""
    return f'<trkpt lat="{lat:.6f}" lon="{lon:.6f}"><ele>1180.4</ele>{time}</trkpt>'


def _walk(n: int, lon0: float, start: datetime | None, order=None) -> list[str]:
    """n points 20 m apart going north-east, 30 s apart; `order` the logging order."""
    points = [
        (-3.35 - k / 5000, lon0 + k / 5000, start + timedelta(seconds=30 * k) if start else None)
        for k in range(n)
    ]
    return [_trkpt(*points[k]) for k in (order or range(n))]


def _gpx(tmp_path: Path, *tracks: tuple[str, list[str]], route: bool = False) -> Path:
    body = "".join(
        f"<trk><name>{name}</name><trkseg>{''.join(points)}</trkseg></trk>"
        for name, points in tracks
    )
    if route:
        body = (
            '<rte><name>Road to the dam</name><rtept lat="-3.35" lon="37.6"/>'
            '<rtept lat="-3.36" lon="37.61"/></rte>' + body
        )
    path = tmp_path / "unit.gpx"
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<gpx version="1.1" creator="Garmin GPSMAP 66i"'
        f' xmlns="http://www.topografix.com/GPX/1/1">{body}</gpx>\n'
    )
    return path


def _import(live_server, token: str, tmp_path: Path, *files: Path):
    return subprocess.run(
        [
            *(BIN / "rangersync", "gpx", "import", *map(str, files)),
            *("--server", live_server.url, "--token-stdin", "--outbox", str(tmp_path / "gpx.db")),
        ],
        input=token + "\n",
        env=live_server.env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.fixture
def token(live_server):
    code = subprocess.run(
        [BIN / "rangersync", "device", "enrol", "--area", "demo", "--user", "baraka"],
        env=live_server.env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return live_server.http.json("POST", "/api/v1/devices/enrol", {"code": code})[1]["token"]


def test_a_garmin_connect_export_is_one_timed_track():
    found = read_gpx(DATA / "garmin_connect_gpxtpx.gpx")
    [track] = found.tracks
    assert found.skipped == [] and track.name == "roadbiking test track"
    [fix] = track.fixes
    assert (fix.lat, fix.lon, fix.time) == (
        43.12346,
        8.74548,
        datetime(2017, 11, 19, 11, 23, 7, tzinfo=UTC),
    )


def test_routes_and_untimed_tracks_are_skipped_with_the_reason():
    found = read_gpx(DATA / "gdal_routes_and_untimed_tracks.gpx")
    assert found.tracks == []
    assert [(s.what, s.reason) for s in found.skipped] == [
        (
            "track 1 (track name)",
            "none of its 4 points has a time (a planned or drawn track, not a walked one)",
        ),
        ("track 2 (empty track)", "no track points"),
        ("track 3 (empty track 2)", "no track points"),
        ("route 1 (route name)", "a route (3 points) is a plan, not a walked track"),
        ("route 2 (empty route)", "a route (0 points) is a plan, not a walked track"),
    ]


def test_timed_tracks_are_imported_next_to_an_untimed_one_and_a_route(live_server, token, tmp_path):
    late_writes = [0, 1, 2, 5, 3, 4, 6, 9, 7, 8, *range(10, 40)]  # a unit that wrote late
    path = _gpx(
        tmp_path,
        ("Morning sweep", _walk(40, 37.60, START, late_writes)),
        ("Planned loop", _walk(25, 37.62, None)),
        ("Afternoon sweep", _walk(30, 37.64, START + timedelta(hours=6))),
        route=True,
    )
    result = _import(live_server, token, tmp_path, path)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    imported = [line for line in lines if line.endswith(" fixes")]
    assert [line.split(": patrol")[0] for line in imported] == [
        "unit.gpx: track 1 (Morning sweep)",
        "unit.gpx: track 3 (Afternoon sweep)",
    ]
    assert imported[0].endswith("40 fixes") and imported[1].endswith("30 fixes")
    assert (
        "unit.gpx: track 2 (Planned loop): skipped: none of its 25 points has a time"
        " (a planned or drawn track, not a walked one)" in lines
    )
    assert (
        "unit.gpx: route 1 (Road to the dam): skipped: a route (2 points) is a plan, not a walked track"
        in lines
    )
    assert "2 of 2 tracks stored" in result.stdout and "0 still pending" in result.stdout
    morning = imported[0].split("patrol ")[1].split(",")[0]
    with psycopg.connect(live_server.env["DATABASE_URL"].replace("+psycopg", "")) as conn:
        wait_derived(conn)  # the line and figures follow the push
        count, distance = conn.execute(
            "SELECT point_count, distance_m FROM patrols WHERE id = %s", (morning,)
        ).fetchone()
    # 39 steps of about 31 m in time order, not the zigzag of the logging order
    assert count == 40 and distance == pytest.approx(39 * 31.4, rel=0.02)


def test_a_unit_clock_at_1901_is_refused_with_codes_and_a_non_zero_exit(
    live_server, token, tmp_path
):
    floor = datetime(1901, 12, 13, 20, 45, 52, tzinfo=UTC)  # the 32-bit epoch's floor
    path = _gpx(tmp_path, ("Clock lost", _walk(20, 37.60, floor)))
    result = _import(live_server, token, tmp_path, path)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "unit.gpx: track 1 (Clock lost): patrol" in result.stdout
    refusals = [line for line in result.stdout.splitlines() if "the server refused" in line]
    assert refusals and all("time-out-of-range" in line for line in refusals[:1])
    assert "0 of 1 tracks stored" in result.stdout
    assert "nothing was stored" in result.stderr


def test_a_file_with_nothing_timed_stores_nothing_and_says_why(live_server, token, tmp_path):
    result = _import(live_server, token, tmp_path, DATA / "gdal_routes_and_untimed_tracks.gpx")
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "track 1 (track name): skipped: none of its 4 points has a time" in result.stdout
    assert "no timed track to import: nothing was stored" in result.stderr
