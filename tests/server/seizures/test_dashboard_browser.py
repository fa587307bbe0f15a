"""In a real headless Chromium against a real server with the demo park: a manager files a
seizure from the dashboard's form (taxon looked up by name, units limited by specimen type),
opens it, and downloads the year's CITES illegal trade report, which holds it, complete."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from server.demo.geodata import AREA_TIMEZONE
from server.demo.seed import DEMO_PASSWORD
from server.seizures.cites import COLUMNS


@pytest.fixture(scope="module")
def seizure_server(live_servers):
    """A server of its own over a copy of the demo park: the test counts the park's seizures."""
    server = live_servers.start("seizures")
    yield server
    live_servers.stop(server)


@pytest.fixture
def browser_page(browser, seizure_server):
    context = browser.new_context(base_url=seizure_server.url, accept_downloads=True)
    page = context.new_page()
    page.requests_seen, page.errors = [], []
    page.on("request", lambda request: page.requests_seen.append(request.url))
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    yield page
    context.close()


def test_manager_files_a_seizure_and_downloads_the_years_report(
    browser_page, seizure_server, artifacts_dir
):
    page = browser_page
    page.goto("/")
    page.fill("input[name=username]", "manager")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.click("text=Mto Mweusi National Park")
    page.click("nav.pages >> text=Seizures")
    page.wait_for_selector("table.seizures tbody tr")  # count() does not wait for the page
    assert page.locator("table.seizures tbody tr").count() >= 1  # the demo park's seizures
    page.wait_for_selector("#chart-seizures canvas", timeout=30_000)  # the monthly chart

    now = datetime.now(ZoneInfo(AREA_TIMEZONE)).replace(second=0, microsecond=0)
    page.fill("input[name=seized_at]", now.strftime("%Y-%m-%dT%H:%M"))
    page.fill("input[name=place_name]", "Browser test gate")
    page.fill("input[name=agency]", "Mto Mweusi Park Rangers")
    page.fill("input[name=reference]", "MMNP/BROWSER/1")
    page.select_option("select[name=transport_mode]", "road")
    page.select_option("select[name=reason]", "illegal_possession")
    page.fill("input[name=origin_countries]", "tz")
    page.fill("input[name=destination_countries]", "VN; CN")
    page.fill(".item input[name=taxon]", "Manis tricuspis")
    page.wait_for_function("() => document.querySelectorAll('#taxa-list option').length > 0")
    page.select_option(".item select[name=term]", "SCA")
    # Scales are weighed: the form offers no "number of specimens" for them.
    assert page.locator(".item select[name=unit] option[value=NUM]").is_disabled()
    page.fill(".item input[name=quantity]", "3.5")
    page.click("text=File the seizure")
    page.wait_for_selector("#items tbody tr")
    assert "Manis tricuspis" in page.locator("#items").inner_text()
    assert "3.5 kg" in page.locator("#items").inner_text()
    assert page.locator("#seized-at time").get_attribute("title") == AREA_TIMEZONE
    assert page.locator("#seized-at").inner_text().endswith("EAT")  # the park's zone, named
    page.screenshot(path=str(artifacts_dir / "dashboard-seizure.png"), full_page=True)

    page.click("nav.pages >> text=Seizures")
    with page.expect_download() as download:
        page.click("#report-xlsx")
    data = Path(download.value.path()).read_bytes()
    sheet = load_workbook(io.BytesIO(data))["Seizure data"]
    rows = [
        dict(zip(COLUMNS, r, strict=True)) for r in sheet.iter_rows(min_row=2, values_only=True)
    ]
    ours = [r for r in rows if r["Agency reference"] == "MMNP/BROWSER/1"]
    assert len(ours) == 1
    assert ours[0]["Species (scientific name)"] == "Manis tricuspis"
    assert ours[0]["Quantity"] == 3.5 and ours[0]["Unit"] == "kg"
    assert ours[0]["Country of origin"] == "TZ" and ours[0]["Country of destination"] == "VN; CN"
    assert all(r["Missing required data"] in (None, "") for r in rows)  # every row complete
    page.click("nav.pages >> text=Map")
    page.wait_for_selector("#map[data-ready=true]", timeout=60_000)
    hotspots = page.evaluate(
        "() => window.dashboardMap.querySourceFeatures('seizures')"
        ".map((f) => f.properties.seizures)"
    )
    assert sum(hotspots) >= 1  # the seizure just filed, at least, on the hotspot layer
    assert page.errors == []
    base = seizure_server.url
    assert [u for u in page.requests_seen if not u.startswith((base, "data:", "blob:"))] == []
