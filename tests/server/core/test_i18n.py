"""Languages: how a request's language is chosen, what the pages and their scripts get in it, how
times and numbers read in each, and that a language is added by dropping in a .po file."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import write_po
from flask import Flask, render_template_string

from server.core import formats, i18n
from tests import factories
from tests.server.analytics.helpers import sign_in

CATALOGUE = re.compile(r'<script type="application/json" id="i18n">(.*?)</script>', re.S)


def catalogue_of(html: str) -> dict:
    return json.loads(CATALOGUE.search(html).group(1))


def test_english_french_and_kiswahili_are_installed():
    assert i18n.installed_languages() == ("en", "fr", "sw")


def test_accept_language_chooses_the_language(client):
    assert (
        "<h1>Connexion</h1>"
        in client.get("/login", headers={"Accept-Language": "fr-FR,fr;q=0.9"}).text
    )
    assert "<h1>Ingia</h1>" in client.get("/login", headers={"Accept-Language": "sw-KE"}).text
    # A language not installed falls to the next the browser accepts, then to English.
    assert (
        "<h1>Ingia</h1>" in client.get("/login", headers={"Accept-Language": "pt, sw;q=0.5"}).text
    )
    assert "<h1>Sign in</h1>" in client.get("/login", headers={"Accept-Language": "pt-BR"}).text


def test_lang_parameter_wins_and_is_remembered_through_sign_in(client, db):
    area = factories.area(db)
    manager = factories.user(db, area.id, "manager")
    french_browser = {"Accept-Language": "fr"}
    page = client.get("/login?lang=sw", headers=french_browser).text
    assert '<html lang="sw">' in page and "<h1>Ingia</h1>" in page
    assert "<h1>Ingia</h1>" in client.get("/login", headers=french_browser).text  # remembered
    sign_in(client, manager)
    home = client.get("/", headers=french_browser).text
    assert "Maeneo yako yaliyohifadhiwa" in home  # "Your protected areas", still in Kiswahili
    assert "meneja" in home  # the role, a term of the domain, translated too
    nav = client.get(f"/areas/{area.slug}/map?lang=fr").text
    assert ">Couverture et effort</a>" in nav and ">Signalements</a>" in nav
    assert '<html lang="fr">' in nav
    # Unknown languages are passed over, like unknown Accept-Language entries: French stays.
    assert "<h1>Connexion</h1>" in client.get("/login?lang=xx").text


def test_language_menu_links_keep_the_query(client):
    html = client.get("/login?next=/areas/x/map&lang=fr").text
    assert 'href="/login?next=%2Fareas%2Fx%2Fmap&amp;lang=sw"' in html
    assert '<strong lang="fr">Français</strong>' in html
    assert ">Kiswahili</a>" in html and ">English</a>" in html


def test_pages_carry_the_scripts_strings_in_their_language(client, tmp_path):
    scripts = tmp_path / "js"
    scripts.mkdir()
    (scripts / "x.js").write_text('import { _ } from "./i18n.js";\nel.title = _("Map");\n')
    assert i18n.script_messages(scripts) == ("Map",)
    assert "Map" not in i18n.script_messages()  # the dashboard's own scripts, extracted
    catalogue = catalogue_of(client.get("/login?lang=fr").text)
    assert catalogue["locale"] == "fr"
    assert set(catalogue["messages"]) == set(i18n.script_messages())
    assert catalogue_of(client.get("/login?lang=en").text)["messages"] == {}


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("en", "Nov 29, 2026, 9:03 PM EAT"),
        ("fr", "29 nov. 2026, 21:03 EAT"),
        ("sw", "29 Nov 2026 21:03 EAT"),
    ],
)
def test_times_are_in_the_parks_zone_and_named(locale, expected):
    moment = datetime(2026, 11, 29, 18, 3, 59, tzinfo=UTC)
    assert formats.local_time(moment, "Africa/Nairobi", locale).replace("\u202f", " ") == expected


def test_a_zone_without_an_abbreviation_is_named_by_its_iana_name():
    moment = datetime(2026, 1, 1, 12, tzinfo=UTC)
    assert formats.zone_name(moment, "Asia/Dubai") == "Asia/Dubai"  # tzdata says only "+04"
    assert formats.zone_name(moment, "Africa/Kinshasa") == "WAT"
    with pytest.raises(ValueError, match="aware"):
        formats.local_time(datetime(2026, 1, 1, 12), "UTC", "en")  # noqa: DTZ001 (the point)


def test_a_time_late_in_the_evening_utc_is_next_day_in_the_park():
    moment = datetime(2026, 11, 29, 22, 30, tzinfo=UTC)
    assert formats.local_day(moment, "en", zone="Africa/Nairobi") == "Nov 30, 2026"
    assert formats.local_day(date(2026, 11, 30), "fr", "long") == "30 novembre 2026"


def test_numbers_read_as_each_language_writes_them():
    assert formats.number(12345.678, "en", 1) == "12,345.7"
    assert formats.number(12345.678, "fr", 1).replace("\u202f", " ") == "12 345,7"
    assert formats.percent(42.25, "fr").replace("\u202f", " ").replace("\xa0", " ") == "42,2 %"
    assert formats.percent(42.25, "sw", 0) == "42%"


def test_a_language_is_added_by_dropping_in_a_po_file(tmp_path):
    """No code change: a compiled Portuguese catalogue makes `pt` a language the pages speak."""
    folder = tmp_path / "pt" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    catalogue = Catalog(locale="pt")
    catalogue.add("Map", "Mapa")
    with open(folder / "messages.po", "wb") as po:
        write_po(po, catalogue)
    with open(folder / "messages.mo", "wb") as mo:
        write_mo(mo, catalogue)
    app = Flask("languages")
    app.secret_key = "test"
    i18n.install(app, tmp_path)
    assert app.extensions[i18n.LANGUAGES] == ("en", "pt")
    template = "{{ _('Map') }} {{ current_language }} {{ 1234.5 | number(1) }}"
    with app.test_request_context("/", headers={"Accept-Language": "pt-PT"}):
        assert render_template_string(template) == "Mapa pt 1.234,5"


def test_a_po_not_compiled_is_not_served_and_is_reported(tmp_path, caplog):
    folder = tmp_path / "pt" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "messages.po").write_text('msgid ""\nmsgstr ""\n')
    assert i18n.installed_languages(Path(tmp_path)) == ("en",)
    assert "make translations" in caplog.text


def test_a_string_the_language_lacks_is_shown_in_english_and_reported(tmp_path):
    folder = tmp_path / "pt" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    catalogue = Catalog(locale="pt")
    catalogue.add("Map", "Mapa")
    with open(folder / "messages.mo", "wb") as mo:
        write_mo(mo, catalogue)
    app = Flask("languages")
    app.secret_key = "test"
    i18n.install(app, tmp_path)
    app.add_url_rule(
        "/", "page", lambda: render_template_string("{{ _('Map') }}, {{ _('Patrols') }}")
    )
    answer = app.test_client().get("/?lang=pt")
    assert answer.text == "Mapa, Patrols"
    assert answer.headers["X-Untranslated"] == "Patrols"
    assert answer.headers["Content-Language"] == "pt"
    english = app.test_client().get("/?lang=en")
    assert "X-Untranslated" not in english.headers  # English is the source: nothing to lack
