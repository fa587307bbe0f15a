"""The operations room in a real headless Chromium against a real server: two duty officers (one
at a desk, 1440×900, one on a phone, 390×844) have the map and the alerts page open when the
simulator's SOS drill sends an SOS. Both see the banner, the card (ranger, phone, last position,
patrol) and the count in the tab's title without a reload; each sees the other's handling steps
as they are taken; resolving clears both banners. Screenshots are kept as test artifacts."""

from __future__ import annotations

import io
import math
import re
import sqlite3
import subprocess
import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import expect

from server.core import formats
from server.demo.geodata import AREA_TIMEZONE
from server.demo.seed import DEMO_PASSWORD
from sync.device.client import DeviceClient
from sync.device.safety_sim import run_drill
from sync.device.simulate import enrol_device, manager_session, sync_until_through
from sync.protocol.tracks import Fix
from tests.live import BIN

DESK = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
NO_OVERFLOW = "() => document.documentElement.scrollWidth <= window.innerWidth"


@pytest.fixture(scope="module")
def ops_server(live_servers):
    """A park of its own: the drill's SOS and overdue patrol would show on every other test's
    pages of the shared server."""
    server = live_servers.start("ops_room")
    yield server
    live_servers.stop(server)


@pytest.fixture
def officers(browser, ops_server):
    opened = []

    def officer(username: str, viewport: dict, page_key: str):
        context = browser.new_context(base_url=ops_server.url, viewport=viewport)
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        page.on(
            "console",
            lambda m: "Content Security Policy" in m.text and page.errors.append(m.text),
        )
        page.goto("/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", DEMO_PASSWORD)
        page.click("button[type=submit]")
        page.goto(f"/areas/demo/{page_key}")
        page.wait_for_selector("body[data-live=open]", timeout=30_000)
        page.evaluate("() => { window.neverReloaded = true; }")
        opened.append(context)
        return page

    yield officer
    for context in opened:
        context.close()


def _card(page):
    return page.locator("#ops .ops-card.kind-sos")


def test_an_sos_drill_reaches_both_officers_who_handle_it_together(
    officers, ops_server, artifacts_dir
):
    desk = officers("manager", DESK, "map")
    desk.wait_for_selector("#map[data-ready=true]", timeout=60_000)
    phone = officers("neema", PHONE, "alerts")
    assert desk.locator("#ops").is_hidden() and phone.locator("#ops").is_hidden()
    plain_title = desk.title()

    said: list[str] = []
    drill = threading.Thread(
        target=lambda: said.append(
            run_drill(ops_server.url, password=DEMO_PASSWORD, say=said.append).sos_alert
        )
    )
    drill.start()
    try:
        for page in (desk, phone):
            expect(_card(page)).to_be_visible(timeout=30_000)
    finally:
        drill.join(timeout=120)
    assert said and said[-1], said  # the drill's SOS alert id

    card = _card(desk)
    expect(card.locator("summary")).to_contain_text("SOS: Ranger")
    expect(card).to_contain_text("Drill: ranger injured")
    expect(card.locator(".ops-phone")).to_have_text(re.compile(r"^\+255700000\d{3}$"))
    expect(card).to_contain_text("Last fix")
    expect(card.locator("a", has_text="open the patrol")).to_have_count(1)
    assert desk.title().startswith("(") and "SOS" in desk.title() and plain_title in desk.title()
    assert int(desk.evaluate("() => document.body.dataset.alarms || '0'")) >= 1
    desk.screenshot(path=str(artifacts_dir / "ops-sos-banner-map-1440.png"))
    phone.screenshot(path=str(artifacts_dir / "ops-sos-banner-alerts-390.png"), full_page=True)
    assert phone.evaluate(NO_OVERFLOW)

    # "Show on map" on the map page moves the map to the ranger, without leaving the page.
    card.locator(".ops-show").click()
    desk.wait_for_function("() => window.dashboardMap.getZoom() >= 14", timeout=15_000)

    card.locator("button[value=acknowledge]").click()
    expect(_card(phone).locator(".ops-state")).to_have_text("Being handled", timeout=15_000)
    expect(_card(phone)).to_contain_text("by Operations Manager")
    expect(_card(phone).locator("button[value=acknowledge]")).to_have_count(0)

    _card(phone).locator("input[name=responder]").fill("Rapid team B (Juma)")
    _card(phone).locator("button[value=assign]").click()
    expect(_card(desk)).to_contain_text("responder: Rapid team B (Juma)", timeout=15_000)
    _card(desk).locator("input[name=note]").fill("Called him: conscious, walking to the road")
    _card(desk).locator("button[value=note]").click()
    expect(_card(phone).locator(".ops-steps li")).to_have_count(3, timeout=15_000)
    expect(_card(phone).locator(".ops-steps li").nth(2)).to_contain_text("walking to the road")
    expect(_card(phone).locator(".ops-steps li").nth(0)).to_contain_text("GMT+3")
    desk.screenshot(path=str(artifacts_dir / "ops-sos-handled-map-1440.png"))
    phone.screenshot(path=str(artifacts_dir / "ops-sos-handled-alerts-390.png"), full_page=True)
    assert phone.evaluate(NO_OVERFLOW)

    _card(phone).locator("input[name=note]").fill("Evacuated to HQ")
    _card(phone).locator("button[value=resolve]").click()
    for page in (desk, phone):
        expect(_card(page)).to_have_count(0, timeout=15_000)
        assert page.evaluate("() => window.neverReloaded === true")
        assert page.errors == []
    assert "SOS" not in desk.title()
    # The alerts page moved the SOS to the ended ones, in place.
    expect(phone.locator("#past-alerts tr", has_text="Drill: ranger injured")).to_have_count(1)
    # The drill's overdue patrol is labelled so in the patrols list, with its leader.
    phone.goto("/areas/demo/patrols?sort=overdue")
    overdue = phone.locator("table.patrols tbody tr.overdue").first
    expect(overdue.locator(".badge.overdue")).to_have_text("Overdue")
    assert overdue.locator("td[data-label=Leader]").inner_text() != "—"
    assert phone.evaluate(NO_OVERFLOW)


def _basemap(path: Path, bbox: list[float]) -> Path:
    """A small raster MBTiles over the park (zooms 9 to 11, one colour per zoom)."""
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE metadata (name TEXT, value TEXT);"
        "CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER,"
        " tile_data BLOB);"
    )
    db.executemany(
        "INSERT INTO metadata VALUES (?, ?)",
        [("name", "Test ortho"), ("format", "png"), ("bounds", ",".join(map(str, bbox)))],
    )

    def tile_xy(lon, lat, z):
        n = 2**z
        y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
        return int((lon + 180) / 360 * n), int(y)

    for z, colour in ((9, "#b8c99a"), (10, "#a9bd86"), (11, "#9fb57a")):
        west, north = tile_xy(bbox[0], bbox[3], z)
        east, south = tile_xy(bbox[2], bbox[1], z)
        image = io.BytesIO()
        Image.new("RGB", (256, 256), colour).save(image, "PNG")
        db.executemany(
            "INSERT INTO tiles VALUES (?, ?, ?, ?)",
            [
                (z, x, 2**z - 1 - y, image.getvalue())
                for x in range(west, east + 1)
                for y in range(north, south + 1)
            ],
        )
    db.commit()
    db.close()
    return path


# The track fills the view one way or the other (fitted), and lies wholly inside it.
FITTED_TO_TRACK = """() => {
    const map = window.dashboardMap, view = map.getBounds();
    const patrol = JSON.parse(document.getElementById("patrol-data").textContent);
    const line = patrol.features[0].geometry.coordinates;
    const xs = line.map((c) => c[0]), ys = line.map((c) => c[1]);
    const inside = Math.min(...xs) >= view.getWest() && Math.max(...xs) <= view.getEast()
        && Math.min(...ys) >= view.getSouth() && Math.max(...ys) <= view.getNorth();
    const share = Math.max((Math.max(...xs) - Math.min(...xs)) / (view.getEast() - view.getWest()),
                           (Math.max(...ys) - Math.min(...ys)) / (view.getNorth() - view.getSouth()));
    return inside && share > 0.5;
}"""

POSITION_OF = """(patrol) => {
    const f = (window.rangerPositions?.features || []).find(
        (f) => f.properties.patrol_id === patrol);
    return f ? f.geometry.coordinates : null;
}"""


def test_rangers_are_named_and_move_on_the_map_over_the_parks_base_map(
    officers, ops_server, artifacts_dir, tmp_path
):
    base, http = ops_server.url, ops_server.http
    bbox = http.json("GET", "/api/v1/areas/demo", token=_manager_token(http))[1]["bbox"]
    ortho = _basemap(tmp_path / "o.mbtiles", bbox)
    attached = subprocess.run(
        [BIN / "rangersync", "mappack", "basemap", str(ortho), "--area", "demo"],
        env=ops_server.env,
        capture_output=True,
        text=True,
    )
    assert attached.returncode == 0, attached.stderr
    token, _ = manager_session(base, "demo", "manager", DEMO_PASSWORD)
    enrolled = enrol_device(base, token, "demo", "juma", "Map test handheld")
    handheld = DeviceClient(base, enrolled["token"], tmp_path / "h.db", sleep=lambda s: None)
    sync_until_through(handheld)
    lon, lat = (bbox[0] + bbox[2]) / 2, (bbox[1] + bbox[3]) / 2
    now = datetime.now(UTC).replace(microsecond=0)
    patrol = handheld.start_patrol(started_at=now - timedelta(minutes=20), objective="Map test")
    for k in range(5):
        at = now - timedelta(minutes=20 - k)
        handheld.record_fix(patrol, Fix(lon + 0.0005 * k, lat, at, 5.0))
    sync_until_through(handheld)

    desk = officers("manager", DESK, "map")
    desk.wait_for_selector("#map[data-ready=true]", timeout=60_000)
    assert desk.locator("#map").get_attribute("data-basemap") == "yes"
    first = desk.evaluate(POSITION_OF, patrol)
    assert first == pytest.approx([lon + 0.002, lat], abs=1e-6)
    label = desk.locator(f".ranger-label[data-patrol='{patrol}']")
    expect(label).to_have_text("Ranger Juma")
    expect(desk.locator(".zone-label").first).to_be_visible()
    assert re.search(r"cells of \d+ m × the same", desk.locator("#map-legend").inner_text())

    for k in range(5, 10):  # the ranger walks on east; the map follows without a reload
        at = now - timedelta(minutes=20 - k)
        handheld.record_fix(patrol, Fix(lon + 0.003 * k, lat, at, 5.0))
    sync_until_through(handheld)
    desk.wait_for_function(
        "(p) => { const f = (window.rangerPositions?.features || []).find("
        "(f) => f.properties.patrol_id === p); return f && f.geometry.coordinates[0] > "
        f"{lon + 0.02}; }}",
        arg=patrol,
        timeout=30_000,
    )
    moved = desk.evaluate(POSITION_OF, patrol)
    assert moved == pytest.approx([lon + 0.027, lat], abs=1e-6)
    assert desk.evaluate("() => window.neverReloaded === true")

    desk.evaluate(f"() => window.focusDashboardMap({moved[0]}, {moved[1]}, '')")
    point = desk.evaluate(f"() => window.dashboardMap.project([{moved[0]}, {moved[1]}])")
    desk.wait_for_function(  # drawn where the map says the ranger is
        "(p) => window.dashboardMap.queryRenderedFeatures([p.x, p.y],"
        " {layers: ['positions-circle']}).length > 0",
        arg=point,
        timeout=15_000,
    )
    box = desk.locator("#map canvas").bounding_box()
    desk.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
    expect(desk.locator(".maplibregl-popup")).to_have_count(1)
    expect(desk.locator(".maplibregl-popup")).to_contain_text("Ranger Juma")
    desk.mouse.click(box["x"] + point["x"], box["y"] + point["y"])  # again: still one popup
    expect(desk.locator(".maplibregl-popup")).to_have_count(1)
    desk.mouse.move(box["x"] + 20, box["y"] + 20)
    expect(desk.locator("#map-coordinates")).to_have_text(re.compile(r"^-?\d+\.\d{5}, \d+\.\d{5}$"))
    assert desk.locator(".maplibregl-ctrl-scale").count() == 1
    requested = desk.evaluate("() => performance.getEntriesByType('resource').map((e) => e.name)")
    assert any("/api/v1/areas/demo/basemap/" in u for u in requested)
    desk.screenshot(path=str(artifacts_dir / "ops-map-rangers-1440.png"))

    phone = officers("neema", PHONE, "map")
    phone.wait_for_selector("#map[data-ready=true]", timeout=60_000)
    assert phone.evaluate(NO_OVERFLOW)
    phone.screenshot(path=str(artifacts_dir / "ops-map-390.png"), full_page=True)

    # A snare photo with the camera's EXIF: the viewer shows when and where it was taken.
    where = {"type": "Point", "coordinates": [round(moved[0], 6), round(moved[1], 6)]}
    report = handheld.record_report(
        "poaching.snare",
        where,
        now,
        patrol_id=patrol,
        priority=2,
        attributes={"snare_type": "wire", "count": 1, "action_taken": "removed"},
    )
    handheld.declare_attachment(report, _exif_photo(moved[1], moved[0]), "image/jpeg")
    sync_until_through(handheld)
    desk.goto(f"/areas/demo/reports/{report}")
    desk.wait_for_selector("#map[data-ready=true]", timeout=60_000)
    desk.locator("button.photo").first.click()
    caption = desk.locator("#photo-viewer .caption")
    taken = datetime(2026, 11, 29, 14, 3, tzinfo=timezone(timedelta(hours=3)))
    expect(caption).to_contain_text(f"taken {formats.local_time(taken, AREA_TIMEZONE, 'en')}")
    expect(caption).to_contain_text(f"at {moved[1]:.5f}, {moved[0]:.5f}")
    desk.wait_for_function(  # the photo itself, shown in the viewer
        "() => document.querySelector('#photo-viewer img').naturalWidth > 0", timeout=15_000
    )
    desk.screenshot(path=str(artifacts_dir / "ops-report-photo-viewer-1440.png"))
    assert desk.errors == [] and phone.errors == []


def _exif_photo(lat: float, lon: float) -> bytes:
    """A JPEG as a handheld's camera writes it: capture time with its zone, GPS position."""

    def dms(value: float) -> tuple[float, float, float]:
        value = abs(value)
        degrees, minutes = int(value), int(value * 60) % 60
        return (
            float(degrees),
            float(minutes),
            round(value * 3600 - degrees * 3600 - minutes * 60, 4),
        )

    exif = Image.Exif()
    exif.get_ifd(0x8769).update({0x9003: "2026:11:29 14:03:00", 0x9011: "+03:00"})
    exif.get_ifd(0x8825).update(
        {1: "S" if lat < 0 else "N", 2: dms(lat), 3: "E" if lon >= 0 else "W", 4: dms(lon)}
    )
    out = io.BytesIO()
    Image.new("RGB", (320, 240), "#7a6a3a").save(out, "JPEG", exif=exif)
    return out.getvalue()


def _manager_token(http) -> str:
    status, body = http.json(
        "POST", "/api/v1/auth/token", {"username": "manager", "password": DEMO_PASSWORD}
    )
    assert status == 201, body
    return body["access_token"]


def test_report_and_patrol_pages_a_manager_can_act_on_at_both_sizes(
    browser, live_server, artifacts_dir
):
    for name, viewport in (("1440", DESK), ("390", PHONE)):
        context = browser.new_context(base_url=live_server.url, viewport=viewport)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error, seen=errors: seen.append(str(error)))
        page.goto("/")
        page.fill("input[name=username]", "manager")
        page.fill("input[name=password]", DEMO_PASSWORD)
        page.click("button[type=submit]")

        page.goto("/areas/demo/reports?sort=priority")
        assert page.evaluate(NO_OVERFLOW)
        page.screenshot(path=str(artifacts_dir / f"ops-reports-{name}.png"), full_page=True)
        page.locator("table.reports a", has_text="Open").first.click()
        page.wait_for_selector("#map[data-ready=true]", timeout=60_000)
        expect(page.locator("#reporter")).to_contain_text("Ranger ")
        expect(page.locator("#where")).to_have_text(re.compile(r"^-?\d+\.\d{5}, \d+\.\d{5} \("))
        assert page.locator("#history tbody tr").count() >= 1
        assert page.evaluate("() => window.dashboardMap.getZoom()") >= 13  # fitted to the report
        assert page.evaluate(NO_OVERFLOW)
        page.screenshot(path=str(artifacts_dir / f"ops-report-{name}.png"), full_page=True)

        page.goto("/areas/demo/patrols?sort=longest")
        assert page.evaluate(NO_OVERFLOW)
        page.screenshot(path=str(artifacts_dir / f"ops-patrols-{name}.png"), full_page=True)
        page.locator("table.patrols tbody a").first.click()
        page.wait_for_selector("#map[data-ready=true]", timeout=60_000)
        assert page.locator("#leader").inner_text() != "—"
        expect(page.locator("#planned-vs-actual-end")).to_contain_text("actual")
        expect(page.locator(".start-label").last).to_be_visible()
        assert page.evaluate(FITTED_TO_TRACK)
        assert page.evaluate(NO_OVERFLOW)
        page.screenshot(path=str(artifacts_dir / f"ops-patrol-{name}.png"), full_page=True)
        gpx = page.locator("a", has_text="GPX").get_attribute("href")
        body = page.evaluate("(u) => fetch(u).then((r) => r.text())", gpx)
        assert body.startswith("<?xml") and "<trkpt " in body and "<time>" in body
        kml = page.locator("a", has_text="KML").get_attribute("href")
        assert "<LineString>" in page.evaluate("(u) => fetch(u).then((r) => r.text())", kml)
        assert errors == []
        context.close()
