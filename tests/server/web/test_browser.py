"""The web pages in a real headless Chromium (Debian's, the `browser` fixture), driven by
Playwright, against a real server process: sign in, see your park, read the API docs; not one
request leaves the machine."""

from __future__ import annotations

import pytest

from server.demo.seed import DEMO_PASSWORD


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.requests_seen = []
    page.on("request", lambda request: page.requests_seen.append(request.url))
    yield page
    context.close()


def _left_the_machine(page, base: str) -> list[str]:
    return [u for u in page.requests_seen if not u.startswith((base, "data:", "blob:"))]


def test_manager_signs_in_and_sees_the_demo_park(page, live_server, artifacts_dir):
    page.goto("/login")
    page.fill("input[name=username]", "manager")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/dashboard")
    assert page.locator("h1").inner_text() == "Welcome, Operations Manager"
    row = page.locator("tbody tr").first
    assert "Mto Mweusi National Park" in row.inner_text() and "manager" in row.inner_text()
    page.screenshot(path=str(artifacts_dir / "dashboard.png"))
    assert _left_the_machine(page, live_server.url) == []


def test_wrong_password_is_explained(page):
    page.goto("/login")
    page.fill("input[name=username]", "manager")
    page.fill("input[name=password]", "not-the-password")
    page.click("button[type=submit]")
    assert page.locator("[role=alert]").inner_text() == "Wrong username or password."


def test_api_docs_render_from_local_assets_only(page, live_server, artifacts_dir):
    page.goto("/api/docs")
    page.wait_for_selector(".opblock", timeout=15_000)
    assert page.locator(".opblock").count() >= 10
    assert page.get_by_text("/api/v1/devices/enrol").count() >= 1
    page.screenshot(path=str(artifacts_dir / "api-docs.png"))
    assert len(page.requests_seen) > 2
    assert _left_the_machine(page, live_server.url) == []
