"""Every page of the dashboard, in French and in Kiswahili, in a real Chromium over real HTTP,
shows no English: the server reports no string its catalogue lacks (X-Untranslated), the
page's scripts report none (window.rangersyncUntranslated), and no sentence of the English
catalogue is left in what the page shows (its text and its titles, labels and placeholders).
Screenshots of each page in each language are kept."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from server.core.i18n import TRANSLATIONS_DIR
from server.demo.geodata import AREA_SLUG
from server.demo.seed import DEMO_PASSWORD

SHOWN_TEXT = """() => {
    const visible = (el) => el.checkVisibility ? el.checkVisibility() : el.offsetParent !== null;
    const attributes = [...document.querySelectorAll("[title], [placeholder], [aria-label], [alt]")]
        .filter(visible)
        .flatMap((el) => ["title", "placeholder", "aria-label", "alt"]
            .map((name) => el.getAttribute(name)).filter(Boolean));
    return [document.title, document.body.innerText, ...attributes].join("\\n");
}"""
SETTLED = """() => document.readyState === "complete"
    && [...document.querySelectorAll("[data-ready]")].every((el) => el.dataset.ready === "true")"""


def english_sentences(language: str) -> list[tuple[str, re.Pattern]]:
    """The catalogue's messages of two words or more (placeholders aside) that the language says
    otherwise, each as a pattern (placeholders match anything). Single words are left to the
    other checks: a park's data (a layer named "road") may be an English word."""
    with open(TRANSLATIONS_DIR / language / "LC_MESSAGES" / "messages.po", "rb") as f:
        catalogue = read_po(f, locale=language)
    found = []
    for message in catalogue:
        english = message.id if isinstance(message.id, str) else (message.id or [""])[0]
        said = message.string if isinstance(message.string, str) else (message.string or [""])[0]
        if not english or said == english or "<" in english or len(english.split()) < 2:
            continue
        parts = re.split(r"%\(\w+\)s", english)
        if len(" ".join(parts).split()) < 2:
            continue  # "%(type)s patrol": one English word around data, which may hold it too
        pattern = r"(?<!\w)" + r".+?".join(re.escape(p) for p in parts) + r"(?!\w)"
        found.append((english, re.compile(pattern)))
    return found


def pages(page, base: str) -> list[str]:
    """Every page a manager reaches: the navigation's, one report, patrol, seizure, case,
    evidence item and its label."""
    page.goto(f"/areas/{AREA_SLUG}/map")
    paths = [a.get_attribute("href") for a in page.locator("nav.pages a").all()]
    for listing, link in (
        ("reports", f"a[href^='/areas/{AREA_SLUG}/reports/']"),
        ("patrols", f"a[href^='/areas/{AREA_SLUG}/patrols/']"),
        ("seizures", f"a[href^='/areas/{AREA_SLUG}/seizures/']"),
        ("cases", f"a[href^='/areas/{AREA_SLUG}/cases/']"),
        ("cases", f"a[href^='/areas/{AREA_SLUG}/evidence/']:not([href$='/label'])"),
        ("cases", "a[href$='/label']"),
    ):
        page.goto(f"/areas/{AREA_SLUG}/{listing}")
        paths.append(page.locator(link).first.get_attribute("href"))
    return ["/", "/about", *paths, f"/areas/{AREA_SLUG}/no-such-page"]


@pytest.mark.parametrize("language", ["fr", "sw"])
def test_every_page_speaks_the_language(browser, live_server, artifacts_dir, language):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"/login?lang={language}")  # the sign-in page, and the language remembered
    problems = check(page, "/login", language, artifacts_dir)
    page.fill("input[name=username]", "warden")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    for path in pages(page, live_server.url):
        problems += check(page, path, language, artifacts_dir)
    context.close()
    assert problems == [], "\n".join(problems)


def check(page, path: str, language: str, artifacts_dir: Path) -> list[str]:
    answer = page.goto(path)
    page.wait_for_function(SETTLED, timeout=60_000)
    page.wait_for_load_state("networkidle")
    name = re.sub(r"[^a-z0-9]+", "-", path.strip("/").lower())[:60] or "home"
    page.screenshot(path=str(artifacts_dir / f"language-{language}-{name}.png"), full_page=True)
    problems = []
    assert answer.headers["content-language"] == language, path
    if "x-untranslated" in answer.headers:
        problems.append(f"{path}: the server lacks {answer.headers['x-untranslated']}")
    scripts = page.evaluate("() => [...(window.rangersyncUntranslated || [])]")
    if scripts:
        problems.append(f"{path}: the scripts lack {scripts}")
    shown = page.evaluate(SHOWN_TEXT)
    for english, pattern in english_sentences(language):
        if pattern.search(shown):
            problems.append(f"{path}: English left: {english!r}")
    return problems
