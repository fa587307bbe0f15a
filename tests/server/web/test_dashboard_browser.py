"""The managers' dashboard in a real headless Chromium (Debian's), driven by Playwright, against a
real server process with the demo park: sign in at /, see the map draw its layers, the patrol
tracks and the coverage heatmap (tiles decoded by MapLibre), triage a report; nothing is fetched
from outside the machine. The shared server will do: the test moves one new report of the park's
to review, and asserts only on what the seeded patrols and reports guarantee (other tests add
their own devices, reports and patrols to the park, and no test relies on a report staying new)."""

from __future__ import annotations

import pytest

from server.demo.seed import DEMO_PASSWORD

MAP_STATE = """() => {
    const map = window.dashboardMap;
    return {
        loaded: map.loaded(),
        layers: map.querySourceFeatures("layers").length,
        tracks: map.querySourceFeatures("tracks").length,
        reports: map.querySourceFeatures("reports").length,
        cells: map.querySourceFeatures("coverage", {sourceLayer: "coverage"})
                  .filter((f) => !f.properties.gap).length,
        gaps: map.querySourceFeatures("coverage", {sourceLayer: "coverage"})
                 .filter((f) => f.properties.gap).length,
        drawn_cells: map.queryRenderedFeatures({layers: ["coverage-fill"]}).length,
        drawn_tracks: map.queryRenderedFeatures({layers: ["tracks-line"]}).length,
    };
}"""


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
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


def test_manager_sees_coverage_on_the_map_and_triages_a_report(page, live_server, artifacts_dir):
    base = live_server.url
    page.goto("/")
    assert page.locator("h1").inner_text() == "Sign in"
    page.fill("input[name=username]", "manager")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.click("text=Mto Mweusi National Park")

    page.wait_for_selector("#map[data-ready=true]", timeout=60_000)
    state = page.evaluate(MAP_STATE)
    assert state["loaded"] and state["layers"] > 10  # boundary, zones, roads, posts…
    assert state["tracks"] >= 1 and state["drawn_tracks"] >= 1
    assert state["reports"] >= 1
    assert state["cells"] >= 50 and state["drawn_cells"] >= 50  # the demo patrols' cells
    assert state["gaps"] > state["cells"]  # most of the park was not patrolled this month
    assert any("/coverage/tiles/" in u and ".mvt?start=" in u for u in page.requests_seen)
    page.screenshot(path=str(artifacts_dir / "dashboard-map.png"))

    page.click("nav.pages >> text=Reports")
    page.select_option("select[name=status]", "new")
    page.click("text=Filter")
    page.locator("table.reports a", has_text="Open").first.click()
    # the page's scripts are running (its mini-map drawn) before its form is used
    page.wait_for_selector("#map[data-ready=true]", timeout=60_000)
    assert page.locator("#status").get_attribute("data-status") == "new"
    page.fill("textarea[name=notes]", "Checked against the ranger's photo")
    page.click("button[value=in_review]")
    page.wait_for_function("() => document.getElementById('status').dataset.status === 'in_review'")
    assert page.locator("#status").inner_text() == "in review"
    assert (
        page.locator("textarea[name=notes]").input_value() == "Checked against the ranger's photo"
    )
    page.screenshot(path=str(artifacts_dir / "dashboard-report.png"), full_page=True)

    page.click("nav.pages >> text=Coverage & effort")
    page.wait_for_selector("#charts[data-ready=true]", timeout=30_000)
    assert float(page.locator("#coverage-percent").inner_text().rstrip(" %")) > 0
    assert page.locator("#cpue-table tbody tr").count() >= 1
    assert page.locator("#chart-effort canvas").count() == 1
    page.screenshot(path=str(artifacts_dir / "dashboard-analytics.png"), full_page=True)

    assert page.errors == []
    assert [u for u in page.requests_seen if not u.startswith((base, "data:", "blob:"))] == []
