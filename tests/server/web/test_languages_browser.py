"""The dashboard's languages in a real Chromium over real HTTP: the page's language from the
browser's Accept-Language, the scripts' strings and number formats from the page's catalogue."""

from __future__ import annotations

SCRIPT_STRINGS = """async () => {
    const i18n = await import("/static/dashboard/i18n.js");
    return {
        locale: i18n.locale,
        dismiss: i18n._("Why dismiss it?"),
        number: i18n.formatNumber(12345.5, 1),
        untranslated: i18n._("%(n)s fixes", {n: 3}),
    };
}"""


def test_a_french_browser_gets_french_pages_and_scripts(browser, live_server, artifacts_dir):
    context = browser.new_context(base_url=live_server.url, locale="fr-FR")
    page = context.new_page()
    page.goto("/login")
    assert page.locator("h1").inner_text() == "Connexion"
    assert page.locator("html").get_attribute("lang") == "fr"
    strings = page.evaluate(SCRIPT_STRINGS)
    assert strings["locale"] == "fr"
    assert strings["dismiss"] == "Pourquoi l’écarter ?"
    assert strings["number"].replace("\u202f", " ") == "12 345,5"
    assert strings["untranslated"] == "3 fixes"  # no translation: the English, filled in
    page.screenshot(path=str(artifacts_dir / "languages-login-fr.png"))

    page.click("text=Kiswahili")
    assert page.locator("h1").inner_text() == "Ingia"
    page.goto("/login")  # remembered for the session, whatever the browser says
    assert page.locator("h1").inner_text() == "Ingia"
    assert page.evaluate(SCRIPT_STRINGS)["dismiss"] == "Kwa nini uiondoe?"
    page.screenshot(path=str(artifacts_dir / "languages-login-sw.png"))
    context.close()
