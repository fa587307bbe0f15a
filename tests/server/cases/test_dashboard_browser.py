"""In a real headless Chromium against a real server with the demo park: a manager opens the
demo case (its outcome, its items, no suspect's name), follows an item to its custody timeline,
and prints its label, whose QR code is drawn and whose Print button runs under the CSP."""

from __future__ import annotations

import pytest

from server.demo.cases import SUSPECT
from server.demo.seed import DEMO_PASSWORD


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.on(  # whatever the Content-Security-Policy refused
        "console",
        lambda message: (
            "Content Security Policy" in message.text and page.errors.append(message.text)
        ),
    )
    yield page
    context.close()


def test_manager_follows_the_demo_case_to_an_items_label(page, artifacts_dir):
    page.goto("/")
    page.fill("input[name=username]", "manager")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.click("text=Mto Mweusi National Park")
    page.click("nav.pages >> text=Cases")
    page.wait_for_selector("#cases tbody tr")
    page.click("#cases tbody a")
    page.wait_for_selector("#case-items tbody tr")
    assert page.locator("#case-outcome").inner_text() == "convicted"
    assert SUSPECT["name"] not in page.content()
    assert page.locator("#package").count() == 0  # managers do not build packages
    page.click("#case-items tr:has-text('Two elephant tusks') >> text=Custody")
    page.wait_for_selector("#custody tbody tr")
    kinds = page.locator("#custody tbody tr td:nth-child(3)").all_inner_texts()
    assert kinds == ["intake", "transfer"]
    assert page.locator("#holder").inner_text() == "user inspekta"
    page.click("text=Print its label")
    page.wait_for_selector("#label svg")
    assert "DEMO-E-" in page.locator("#label").inner_text()
    page.evaluate("() => { window.print = () => { window.printed = true; }; }")
    page.click("#print")
    page.wait_for_function("() => window.printed === true")
    page.screenshot(path=str(artifacts_dir / "evidence-label.png"))
    assert page.errors == []
