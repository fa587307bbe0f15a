"""Error pages in a real Chromium over real HTTP: a manager who reversed the dates, in French, and
a partner who followed the park's link; both get a page, not problem+json text."""

from __future__ import annotations

from server.demo.geodata import AREA_SLUG
from server.demo.seed import DEMO_PASSWORD


def sign_in(page, username, target):
    page.goto(target)  # not signed in: the sign-in page, which then goes back to `target`
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")


def test_error_pages_in_a_browser(browser, live_server, artifacts_dir):
    context = browser.new_context(base_url=live_server.url, locale="fr-FR")
    page = context.new_page()
    reversed_dates = f"/areas/{AREA_SLUG}/analytics?start=2026-05-10&end=2026-05-01"
    sign_in(page, "manager", reversed_dates)
    assert page.url == live_server.url + reversed_dates  # `next` was honoured
    assert page.locator("h1").inner_text() == (
        "Cette page ne peut pas être affichée avec ce qui a été demandé"
    )
    assert page.locator("ul.errors").inner_text() == "La date de fin précède la date de début."
    page.screenshot(path=str(artifacts_dir / "error-reversed-period-fr.png"), full_page=True)
    page.click("text=Afficher la page avec ses réglages habituels")
    page.wait_for_selector("#charts")
    context.close()

    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    sign_in(page, "partner", "/")
    page.click("text=Mto Mweusi National Park")
    assert page.locator("h1").inner_text() == "Not allowed"
    assert page.locator("a[href='/ogc/']").count() == 1
    page.screenshot(path=str(artifacts_dir / "error-partner-403.png"), full_page=True)
    context.close()
