"""Dates, times and numbers as a reader of a given language expects them (Babel's CLDR data),
times in the park's own time zone with the zone named. Plain functions of a locale code: the
pages use them through the Jinja filters of server.core.i18n, a document built outside a
request (the monthly PDF) calls them directly."""

from __future__ import annotations

import copy
from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel import Locale
from babel import dates as babel_dates
from babel.numbers import NumberPattern


def zone_name(moment: datetime, zone: str) -> str:
    """The zone's name at that moment: its abbreviation (EAT, CAT, WAT, UTC) where the zone
    database has one, else its IANA name, which names it better than a bare "+03"."""
    abbreviation = moment.astimezone(ZoneInfo(zone)).tzname() or ""
    if not abbreviation or abbreviation[0] in "+-":
        return zone
    return abbreviation


def local_time(moment: datetime, zone: str, locale: str, length: str = "medium") -> str:
    """`moment` (aware) in the park's zone, the zone named: "29 nov. 2026, 21:03 EAT" in French.
    length: "short", "medium" or "long" (CLDR's date lengths; the time is to the minute)."""
    if moment.tzinfo is None:
        raise ValueError("a time shown to people must be aware of its zone")
    local = moment.astimezone(ZoneInfo(zone))
    shown_date = babel_dates.format_date(local.date(), length, locale=locale)
    shown_time = babel_dates.format_time(local.time(), "short", locale=locale)
    joined = Locale.parse(locale).datetime_formats[length]  # CLDR's "{1}, {0}", "{1} {0}"…
    return f"{joined.format(shown_time, shown_date)} {zone_name(moment, zone)}"


def local_clock(moment: datetime, zone: str, locale: str) -> str:
    """The time of day only, in the park's zone, named: "21:03 EAT"."""
    local = moment.astimezone(ZoneInfo(zone))
    return (
        f"{babel_dates.format_time(local.time(), 'short', locale=locale)} {zone_name(moment, zone)}"
    )


def local_day(
    day: date | datetime, locale: str, length: str = "medium", zone: str | None = None
) -> str:
    """A calendar day; a datetime is first put in the park's zone (`zone` is then required)."""
    if isinstance(day, datetime):
        if zone is None:
            raise ValueError("a time's day depends on the zone: give the park's")
        day = day.astimezone(ZoneInfo(zone)).date()
    return babel_dates.format_date(day, length, locale=locale)


def month_name(day: date, locale: str) -> str:
    """ "novembre 2026" """
    return babel_dates.format_date(day, "LLLL y", locale=locale)


def number(value: float | int, locale: str, digits: int | None = None) -> str:
    """Grouped per locale ("12 345,6" in French); `digits` fixes the decimals shown."""
    pattern = Locale.parse(locale).decimal_formats[None]
    return _with_digits(pattern, digits).apply(value, locale)


def percent(value: float, locale: str, digits: int = 1) -> str:
    """`value` is a percentage already (42.5 → "42,5 %" in French, "42.5%" in English)."""
    pattern = Locale.parse(locale).percent_formats[None]
    return _with_digits(pattern, digits).apply(value / 100, locale)


def _with_digits(pattern: NumberPattern, digits: int | None) -> NumberPattern:
    if digits is None:
        return pattern
    fixed = copy.copy(pattern)  # the locale's own pattern (grouping, sign, % placement)
    fixed.frac_prec = (digits, digits)
    return fixed


def language_name(code: str) -> str:
    """The language in its own words ("Français", "Kiswahili"), for the language menu."""
    name = Locale.parse(code).get_display_name(code) or code
    return name[:1].upper() + name[1:]
