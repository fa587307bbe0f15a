"""The park's calendar: its today, the instants a period of its days covers, and how pages name
its zone. (Times themselves are shown by server.core.i18n's `local_time` filter.)"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from jinja2 import pass_context


def zone_of(context) -> ZoneInfo:
    area = context.get("area")
    return ZoneInfo(getattr(area, "timezone", None) or "UTC")


@pass_context
def zone_label(context) -> str:
    """`EAT (Africa/Dar_es_Salaam)`: how pages name the zone their times are in."""
    zone = zone_of(context)
    return f"{datetime.now(zone).tzname()} ({zone.key})"


def park_day(moment: datetime, zone_name: str) -> date:
    """The park's calendar day of a time."""
    return moment.astimezone(ZoneInfo(zone_name)).date()


def day_bounds(first: date, last: date, zone_name: str) -> tuple[str, str]:
    """The instants a period of park days starts and ends (the midnight after its last day), as
    ISO 8601 with the park's offset: what the API's time filters take."""
    zone = ZoneInfo(zone_name)
    start = datetime.combine(first, time(), zone)
    end = datetime.combine(last + timedelta(days=1), time(), zone)
    return start.isoformat(), end.isoformat()


def day_start(day: date, zone_name: str) -> datetime:
    """The instant a park day begins."""
    return datetime.combine(day, time(), ZoneInfo(zone_name))


def today_in(zone_name: str) -> date:
    return datetime.now(ZoneInfo(zone_name)).date()


GLOBALS = {"zone_label": zone_label}
FILTERS = {"park_day": park_day}
