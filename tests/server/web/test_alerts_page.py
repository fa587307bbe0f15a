"""The dashboard's alerts page and the alerts on the map, in a real headless Chromium against a
real server process with the demo park: the manager issues an alert from the page's form, sees
"seen by 0 of N", a handheld acknowledges it over the API, the page (told by the live feed)
shows who has seen it, the map draws it, and the manager cancels it. The server-rendered page
is also checked with the test client: who may see it, and what it shows."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from playwright.sync_api import expect

from server.core import formats
from server.core.policy import SYSTEM
from server.demo.geodata import AREA_TIMEZONE
from server.demo.seed import DEMO_PASSWORD
from server.safety import alerts
from tests import factories
from tests.server.analytics.helpers import sign_in

ALERTS_ON_MAP = """() => {
    const map = window.dashboardMap;
    return {
        alerts: map.querySourceFeatures("alerts").length,
        sos_or_point: map.querySourceFeatures("alerts").filter(
            (f) => f.geometry.type === "Point").length,
        drawn: map.queryRenderedFeatures({layers: ["alerts-fill", "alerts-point"]}).length,
        tracks: map.querySourceFeatures("tracks").length,
        layers: map.querySourceFeatures("layers").length,
    };
}"""


@pytest.fixture(scope="module")
def alerts_server(live_servers):
    """A server of its own, not the shared one: the test asserts that the park has no active alert
    but its own, and other tests on the shared server raise alerts in the demo park."""
    server = live_servers.start("alerts_page")
    yield server
    live_servers.stop(server)


@pytest.fixture
def browser_page(browser, alerts_server):
    context = browser.new_context(
        base_url=alerts_server.url, viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    page.requests_seen = []
    page.errors = []
    page.on("request", lambda request: page.requests_seen.append(request.url))
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.on(  # whatever the Content-Security-Policy refused
        "console",
        lambda message: (
            "Content Security Policy" in message.text and page.errors.append(message.text)
        ),
    )
    yield page
    context.close()


def _handheld(http, manager_token: str) -> dict:
    """A new handheld for the demo ranger amani, enrolled over the API as a real one is."""
    status, code = http.json(
        "POST", "/api/v1/areas/demo/enrolment-codes", {"username": "amani"}, manager_token
    )
    assert status == 201, code
    status, enrolled = http.json(
        "POST", "/api/v1/devices/enrol", {"code": code["code"], "name": "Alerts test handheld"}
    )
    assert status == 201, enrolled
    return enrolled


def test_manager_issues_follows_and_cancels_an_alert(browser_page, alerts_server, artifacts_dir):
    page, http = browser_page, alerts_server.http
    status, token = http.json(
        "POST", "/api/v1/auth/token", {"username": "manager", "password": DEMO_PASSWORD}
    )
    assert status == 201
    manager = token["access_token"]
    device = _handheld(http, manager)
    status, enrolled = http.json("GET", "/api/v1/areas/demo/devices", token=manager)
    devices = sum(1 for d in enrolled if d.get("revoked_at") is None)
    assert devices >= 2  # the demo's handhelds and ours
    west, south, east, north = http.json("GET", "/api/v1/areas/demo", token=manager)[1]["bbox"]
    lat, lon = round((south + north) / 2, 5), round((west + east) / 2, 5)

    page.goto("/")
    page.fill("input[name=username]", "manager")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.click("text=Mto Mweusi National Park")
    page.click("nav.pages >> text=Alerts")
    page.wait_for_selector("main[data-ready=true]")
    assert page.locator("h1").inner_text() == "Safety alerts"

    form = page.locator("#issue-alert")
    form.locator("textarea[name=message]").fill("Armed poachers seen near the river camp")
    form.locator("select[name=severity]").select_option("critical")
    form.locator("input[name=lat]").fill(str(lat))
    form.locator("button[type=submit]").click()  # a point without its longitude and radius
    expect(page.locator("#issue-error")).to_have_text(
        "Give latitude, longitude and radius together"
    )
    form.locator("input[name=lat]").fill("")
    open_ring = [[lon, lat], [lon + 0.01, lat], [lon, lat + 0.01], [lon - 0.01, lat]]
    form.locator("textarea[name=polygon]").fill(
        json.dumps({"type": "Polygon", "coordinates": [open_ring]})
    )
    form.locator("button[type=submit]").click()  # refused by the server, the reason shown
    expect(page.locator("#issue-error")).to_contain_text("geometry")
    assert page.locator("#active-alerts tr.alert").count() == 0
    form.locator("textarea[name=polygon]").fill("")
    form.locator("input[name=lat]").fill(str(lat))
    form.locator("input[name=lon]").fill(str(lon))
    form.locator("input[name=radius_km]").fill("3")
    form.locator("input[name=valid_hours]").fill("6")
    form.locator("button[type=submit]").click()

    row = page.locator("#active-alerts tr.alert", has_text="Armed poachers")
    expect(row).to_have_count(1)
    expect(row.locator(".seen-count")).to_have_text(f"seen by 0 of {devices}")
    assert "critical" in row.inner_text() and "3 km around" in row.inner_text()
    assert "whole area" in row.inner_text() and "pending" in row.inner_text()
    alert_id = row.get_attribute("data-alert")

    page.evaluate("() => { window.notReloaded = true; }")
    status, ack = http.json("POST", f"/api/v1/alerts/{alert_id}/ack", {}, device["token"])
    assert status == 200 and ack["first"] is True, ack
    # The live feed announces the acknowledgement and the table is refreshed in place.
    expect(row.locator(".seen-count")).to_have_text(f"seen by 1 of {devices}", timeout=15_000)
    assert page.evaluate("() => window.notReloaded === true")
    page.reload()
    row.locator("summary").click()
    seen_at = formats.local_time(
        datetime.fromisoformat(ack["acknowledged_at"]), AREA_TIMEZONE, "en"
    )
    expect(row.locator("ul.seen li")).to_have_text(  # in park time, the zone named
        [f"Alerts test handheld (amani), {seen_at}"]
    )
    expect(row.locator("ul.not-seen li")).to_have_count(devices - 1)
    page.screenshot(path=str(artifacts_dir / "dashboard-alerts.png"), full_page=True)

    page.click("nav.pages >> text=Map")
    page.wait_for_selector("#map[data-ready=true]", timeout=60_000)
    state = page.evaluate(ALERTS_ON_MAP)
    assert state["alerts"] >= 2 and state["sos_or_point"] >= 1  # the circle and its centre
    assert state["drawn"] >= 1 and state["tracks"] >= 1 and state["layers"] > 10
    assert any(u.endswith("/api/v1/areas/demo/alerts") for u in page.requests_seen)
    page.screenshot(path=str(artifacts_dir / "dashboard-map-alerts.png"))

    page.click("nav.pages >> text=Alerts")
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator(f"button[data-cancel='{alert_id}']").click()
    past = page.locator(f"#past-alerts tr[data-alert='{alert_id}']")
    expect(past).to_contain_text("cancelled")
    expect(past).to_contain_text(f"seen by 1 of {devices}")
    expect(page.locator(f"#active-alerts tr[data-alert='{alert_id}']")).to_have_count(0)
    status, detail = http.json("GET", f"/api/v1/alerts/{alert_id}", token=manager)
    assert detail["cancelled_at"] is not None

    assert page.errors == []
    base = alerts_server.url
    assert [u for u in page.requests_seen if not u.startswith((base, "data:", "blob:"))] == []


def test_alerts_page_shows_what_the_service_holds_and_only_to_managers(client, db):
    area = factories.area(db)
    manager = factories.user(db, area.id, "manager")
    ranger = factories.user(db, area.id, "ranger")
    factories.device(db, area.id, ranger.username)
    alerts.issue_alert(
        db,
        SYSTEM,
        area.id,
        severity="warning",
        message="Flood on the east track",
        audience={"teams": []},
    )
    gone = alerts.issue_alert(db, SYSTEM, area.id, severity="info", message="Old news")
    alerts.cancel(db, SYSTEM, gone.id)
    db.commit()

    sign_in(client, manager)
    html = client.get(f"/areas/{area.slug}/alerts").get_data(as_text=True)
    active, past = html.split('id="past-alerts"')
    assert "Flood on the east track" in active and "seen by 0 of 1" in active
    assert "Old news" in past and "Old news" not in active
    found = client.get(f"/areas/{area.slug}/alerts?q=OLD").get_data(as_text=True)
    assert "Old news" in found.split('id="past-alerts"')[1]
    missed = client.get(f"/areas/{area.slug}/alerts?q=flood").get_data(as_text=True)
    assert "Old news" not in missed.split('id="past-alerts"')[1]
    long_ago = client.get(f"/areas/{area.slug}/alerts?start=2001-01-01&end=2001-01-31")
    assert "Old news" not in long_ago.get_data(as_text=True).split('id="past-alerts"')[1]
    assert client.get(f"/areas/{area.slug}/alerts?sort=sideways").status_code == 422
    client.post("/logout")
    sign_in(client, ranger)
    assert client.get(f"/areas/{area.slug}/alerts").status_code == 403
