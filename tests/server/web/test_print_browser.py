"""Printing the dashboard in a real Chromium: every page of the park prints its content without
the navigation, forms or buttons; Chromium's own PDF of a page is not blank and carries none of
the navigation; the analytics page links the monthly PDF report, which the session can fetch."""

from __future__ import annotations

import pypdfium2 as pdfium

from server.demo.geodata import AREA_SLUG
from server.demo.seed import DEMO_PASSWORD

KEYS = [
    "map",
    "layers",
    "reports",
    "patrols",
    "analytics",
    "devices",
    "review",
    "alerts",
    "people",
    "enrolment",
    "seizures",
]


def test_every_page_prints_without_navigation_or_forms(browser, live_server, artifacts_dir):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto("/login")
    page.fill("input[name=username]", "warden")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")

    paths = [f"/areas/{AREA_SLUG}/{key}" for key in KEYS]
    page.goto(paths[2])  # reports: one report's page, and one patrol's
    paths.append(page.locator("table.reports a", has_text="Open").first.get_attribute("href"))
    page.goto(paths[3])
    paths.append(
        page.locator(f"a[href^='/areas/{AREA_SLUG}/patrols/']").first.get_attribute("href")
    )
    for path in paths:
        page.goto(path)
        assert page.locator("header").is_visible(), path  # on screen, all is there
        page.emulate_media(media="print")
        assert page.locator("h1").is_visible(), path
        for hidden in ("header", "nav.pages", "form:visible", "button:visible"):
            assert page.locator(hidden).filter(visible=True).count() == 0, (path, hidden)
        page.emulate_media(media="screen")

    page.goto(f"/areas/{AREA_SLUG}/analytics")
    page.wait_for_selector("#charts[data-ready=true]", timeout=30_000)
    page.emulate_media(media="print")  # what page.pdf() uses unless told "screen", as above
    printed = page.pdf(format="A4")
    (artifacts_dir / "print-analytics.pdf").write_bytes(printed)
    document = pdfium.PdfDocument(printed)
    first = document[0]
    first.render(scale=1).to_pil().save(artifacts_dir / "print-analytics-page1.png")
    text = "\n".join(p.get_textpage().get_text_range() for p in document)
    assert "Coverage & effort" in text and "Coverage by zone" in text
    for navigation in ("Sign out", "Sync review", "Français", "Show"):
        assert navigation not in text, navigation

    form = page.locator("form.monthly-report")
    url = f"{form.get_attribute('action')}?month={form.locator('input[name=month]').input_value()}"
    answer = page.request.get(url)  # with the page's session cookie
    assert answer.status == 200 and answer.headers["content-type"] == "application/pdf"
    assert answer.body().startswith(b"%PDF-")
    context.close()
