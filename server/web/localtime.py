"""Times as the park's people read them: in the park's own time zone, with the zone named. Pages
use the `park_time` filter; the area in the template's context gives the zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from jinja2 import pass_context


def zone_of(context) -> ZoneInfo:
    area = context.get("area")
    return ZoneInfo(getattr(area, "timezone", None) or "UTC")


def local(moment: datetime, zone: ZoneInfo) -> datetime:
    """A stored time (UTC, aware; a naive one is taken as UTC, as the database keeps them) in
    the park's zone."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone)


@pass_context
def park_time(context, moment: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """`2026-11-29 21:04 EAT`; `—` when there is no time."""
    if moment is None:
        return "—"
    shown = local(moment, zone_of(context))
    return f"{shown.strftime(fmt)} {shown.tzname()}"


@pass_context
def park_date(context, moment: datetime | None) -> date | None:
    """The park-local calendar day of a time (for links to a day's period)."""
    return None if moment is None else local(moment, zone_of(context)).date()


@pass_context
def zone_label(context) -> str:
    """`EAT (Africa/Dar_es_Salaam)`: how pages name the zone their times are in."""
    zone = zone_of(context)
    return f"{datetime.now(zone).tzname()} ({zone.key})"


def day_bounds(first: date, last: date, zone_name: str) -> tuple[str, str]:
    """The instants a period of park days starts and ends (the midnight after its last day), as
    ISO 8601 with the park's offset: what the API's time filters take."""
    zone = ZoneInfo(zone_name)
    start = datetime.combine(first, time(), zone)
    end = datetime.combine(last + timedelta(days=1), time(), zone)
    return start.isoformat(), end.isoformat()


def today_in(zone_name: str) -> date:
    return datetime.now(ZoneInfo(zone_name)).date()


FILTERS = {"park_time": park_time, "park_date": park_date}
GLOBALS = {"zone_label": zone_label}
