"""The operations room in a real headless Chromium against a real server: two duty officers (one
at a desk, 1440×900, one on a phone, 390×844) have the map and the alerts page open when the
simulator's SOS drill sends an SOS. Both see the banner, the card (ranger, phone, last position,
patrol) and the count in the tab's title without a reload; each sees the other's handling steps
as they are taken; resolving clears both banners. Screenshots are kept as test artifacts."""

from __future__ import annotations

import re
import threading

import pytest
from playwright.sync_api import expect

from server.demo.seed import DEMO_PASSWORD
from sync.device.safety_sim import run_drill

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
