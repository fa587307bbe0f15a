"""The dashboard's languages (Flask-Babel): which one a request is answered in, the translated
strings of the templates and of the pages' JavaScript, and the Jinja filters that show times in
the park's zone and numbers as the reader's language writes them.

A language is one file, server/translations/<code>/LC_MESSAGES/messages.po, compiled to a .mo
at set-up (`make translations`, part of `make setup`); the languages served are English (the
strings are written in it) and every one compiled there, so adding one needs no code change
(README, "Languages"). The language of a request is, in order: a `lang` query parameter (then
remembered in the session cookie), the one remembered, the browser's Accept-Language, English.
A `lang` naming no installed language is passed over like an unknown Accept-Language entry.

The JavaScript marks its strings `_("…")` (server/static/dashboard/i18n.js); the same
extraction finds them (babel.cfg), and each page carries their translations as a JSON
catalogue in a `<script type="application/json" id="i18n">` element.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from functools import cache
from gettext import NullTranslations
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode
from weakref import WeakSet

from babel.messages.extract import extract_from_file
from flask import Flask, Response, current_app, g, has_request_context, json, request, session
from flask_babel import Babel, get_locale, get_translations, gettext, lazy_gettext
from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup

from server.core import formats

SOURCE_LANGUAGE = "en"
LANG_PARAMETER = "lang"
SESSION_KEY = "lang"
LANGUAGES = "rangersync.languages"
SERVER_DIR = Path(__file__).resolve().parent.parent
TRANSLATIONS_DIR = SERVER_DIR / "translations"
SCRIPTS_DIR = SERVER_DIR / "static" / "dashboard"

log = logging.getLogger(__name__)

__all__ = ["gettext", "install", "language", "lazy_gettext"]


def installed_languages(translations: Path = TRANSLATIONS_DIR) -> tuple[str, ...]:
    """English, then each language compiled under `translations`, sorted by code."""
    compiled = {p.parts[-3] for p in translations.glob("*/LC_MESSAGES/messages.mo")}
    for source in translations.glob("*/LC_MESSAGES/messages.po"):
        target = source.with_suffix(".mo")
        if not target.exists() or target.stat().st_mtime < source.stat().st_mtime:
            log.warning("%s is not compiled or is stale: run `make translations`", source)
    return (SOURCE_LANGUAGE, *sorted(compiled - {SOURCE_LANGUAGE}))


def language() -> str:
    """This request's language code."""
    return str(get_locale() or SOURCE_LANGUAGE)


def _select_language() -> str:
    installed: tuple[str, ...] = current_app.extensions[LANGUAGES]
    for wanted in (request.args.get(LANG_PARAMETER), session.get(SESSION_KEY)):
        if wanted in installed:
            return wanted
    return request.accept_languages.best_match(installed, default=SOURCE_LANGUAGE)


def _has_words() -> bool:
    """Static files have no language: their answers stay free of the session (no Vary: Cookie)."""
    return not request.path.startswith("/static/")


def _remember_language() -> None:
    if not _has_words():
        return
    wanted = request.args.get(LANG_PARAMETER)
    if wanted in current_app.extensions[LANGUAGES] and session.get(SESSION_KEY) != wanted:
        session[SESSION_KEY] = wanted
    if language() != SOURCE_LANGUAGE:
        _watch(get_translations())


class _Untranslated(NullTranslations):
    """The last fallback of a language's catalogue: a string it lacks is answered in English,
    as gettext does, and noted for this request (X-Untranslated, the page's scripts)."""

    def gettext(self, message: str) -> str:
        if has_request_context():
            g.setdefault("untranslated", set()).add(message)
        return message

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        self.gettext(msgid1)
        return msgid1 if n == 1 else msgid2


_WATCHED: WeakSet = WeakSet()


def _watch(translations: NullTranslations) -> None:
    if translations not in _WATCHED:
        translations.add_fallback(_Untranslated())
        _WATCHED.add(translations)


def untranslated() -> set[str]:
    """The strings this request asked for that its language's catalogue lacks."""
    return set(g.get("untranslated", ()))


def _say_language(response: Response) -> Response:
    """Content-Language, and X-Untranslated listing what fell back to English (logged too)."""
    if not _has_words():
        return response
    response.headers.setdefault("Content-Language", language())
    missing = g.get("untranslated")
    if missing:
        listed = "; ".join(quote(m, safe=" ") for m in sorted(missing))
        response.headers["X-Untranslated"] = listed[:4000]
        log.warning("untranslated in %s on %s: %s", language(), request.path, listed[:500])
    return response


@cache
def script_messages(scripts: Path = SCRIPTS_DIR) -> tuple[str, ...]:
    """Every `_("…")` string of the pages' JavaScript, found as `make messages` finds them."""
    found: set[str] = set()
    for path in sorted(scripts.glob("**/*.js")):
        for _line, message, _comments, _context in extract_from_file(
            "javascript", path, keywords={"_": None}, options={"parse_template_string": True}
        ):
            if isinstance(message, str):
                found.add(message)
    return tuple(sorted(found))


def script_catalogue(zone: str | None = None) -> Markup:
    """The `<script type="application/json" id="i18n">` a page's modules read their strings,
    its language and the park's zone from. Not executed, so it needs no CSP nonce."""
    lang = language()
    messages = {}
    if lang != SOURCE_LANGUAGE:  # only those the catalogue has: the scripts report the rest
        translated = {m: gettext(m) for m in script_messages()}
        messages = {m: t for m, t in translated.items() if m not in untranslated()}
    data = {"locale": lang, "time_zone": zone, "messages": messages}
    # <, >, & and ' written as \u00XX: the text cannot end the element.
    return Markup('<script type="application/json" id="i18n">%s</script>') % htmlsafe_json_dumps(
        data, dumps=json.dumps, ensure_ascii=False
    )


def _time_element(moment: datetime | None, zone: str, text: str) -> Markup:
    if moment is None:
        return Markup("—")
    return Markup('<time datetime="{}" title="{}">{}</time>').format(moment.isoformat(), zone, text)


def local_time_filter(moment: datetime | None, zone: str, length: str = "medium") -> Markup:
    """{{ report.observed_at | local_time(area.timezone) }}: a <time> element, the text in the
    park's zone and the reader's language, the zone named; the exact instant (with its offset)
    in its datetime attribute, the IANA zone in its title."""
    if moment is None:
        return _time_element(None, zone, "")
    return _time_element(moment, zone, formats.local_time(moment, zone, language(), length))


def local_clock_filter(moment: datetime | None, zone: str) -> Markup:
    if moment is None:
        return _time_element(None, zone, "")
    return _time_element(moment, zone, formats.local_clock(moment, zone, language()))


def local_day_filter(
    day: date | datetime | None, zone: str | None = None, length: str = "medium"
) -> str:
    """{{ period.start | local_day }}, or a time's day in the park: {{ t | local_day(zone) }}."""
    if day is None:
        return "—"
    return formats.local_day(day, language(), length, zone)


def number_filter(value: float | int | None, digits: int | None = None) -> str:
    """{{ km | number(1) }} → "1 234,5" in French; None shows as a dash."""
    return "—" if value is None else formats.number(value, language(), digits)


def percent_filter(value: float | None, digits: int = 1) -> str:
    """{{ 42.5 | percent }} → "42,5 %" in French (the value is a percentage already)."""
    return "—" if value is None else formats.percent(value, language(), digits)


def language_url(code: str) -> str:
    """This page in another language: the same path and query, `lang` replaced."""
    query = [(k, v) for k, v in request.args.items(multi=True) if k != LANG_PARAMETER]
    return f"{request.path}?{urlencode([*query, (LANG_PARAMETER, code)])}"


def _template_globals() -> dict[str, Any]:
    installed: tuple[str, ...] = current_app.extensions[LANGUAGES]
    return {
        "current_language": language(),
        "languages": [(code, formats.language_name(code)) for code in installed],
        "i18n_script": script_catalogue,
        "language_url": language_url,
    }


def install(app: Flask, translations: Path = TRANSLATIONS_DIR) -> None:
    app.extensions[LANGUAGES] = installed_languages(translations)
    Babel(
        app,
        locale_selector=_select_language,
        default_translation_directories=str(translations),
    )
    app.before_request(_remember_language)
    app.after_request(_say_language)
    app.context_processor(_template_globals)
    app.add_template_filter(local_time_filter, "local_time")
    app.add_template_filter(local_clock_filter, "local_clock")
    app.add_template_filter(local_day_filter, "local_day")
    app.add_template_filter(number_filter, "number")
    app.add_template_filter(percent_filter, "percent")
