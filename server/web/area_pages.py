"""The managers' dashboard pages of one area: server-rendered HTML from the same services the API
uses, with small JavaScript modules for the map, the charts and the buttons.

A page is a function registered with `@page(key, title)`: it gets the request's session, actor
and area and returns the template's context; the navigation lists every registered page in
order. Adding a page (alerts, say) is one function and one template under area/.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from shapely.geometry import mapping

from schemas.alerts import SEVERITIES
from schemas.analytics import REPORT_SORTS
from server.analytics import browse, coverage, devices, plans
from server.analytics.common import cell_size, period
from server.areas import service as areas
from server.core.errors import Invalid, NotFound, Unauthenticated
from server.core.i18n import lazy_gettext as _l
from server.core.params import whole_number
from server.core.policy import Action, authorize
from server.core.web import current_actor, read_db
from server.evidence import service as evidence
from server.maps import layers as map_layers
from server.patrols.listing import PATROL_ORDERS
from server.reports import listing as report_listing
from server.reports import service as reports
from server.reports.models import STATUS_TRANSITIONS
from server.safety import alerts
from server.safety import events as safety_events
from server.safety import settings as safety_settings
from server.sync import review
from server.web import localtime
from server.web.pages import here

blp = Blueprint("area_pages", __name__)
for _name, _filter in localtime.FILTERS.items():
    blp.add_app_template_filter(_filter, _name)
for _name, _global in localtime.GLOBALS.items():
    blp.add_app_template_global(_global, _name)


@dataclass(frozen=True)
class Page:
    key: str
    title: str  # translated when shown: lazy_gettext
    render: Callable[..., dict]


PAGES: dict[str, Page] = {}


def page(key: str, title: str):
    def register(render: Callable[..., dict]) -> Callable[..., dict]:
        PAGES[key] = Page(key, title, render)
        return render

    return register


def _day(name: str) -> date | None:
    raw = request.args.get(name) or None
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise Invalid(
            f"{name} must be a date (YYYY-MM-DD)", errors={name: ["not a date"]}
        ) from None


def _period(area):
    """The period asked for; by default the last 30 days ending today in the park."""
    return period(_day("start"), _day("end"), today=localtime.today_in(area.timezone))


@page("map", _l("Map"))
def map_page(s, actor, area):
    p = _period(area)
    start_at, end_at = localtime.day_bounds(p.start, p.end, area.timezone)
    return {"period": p, "start_at": start_at, "end_at": end_at, "cell_m": cell_size(s, area.id)}


@page("layers", _l("Layers"))
def layers_page(s, actor, area):
    return {"layers": map_layers.list_layers(s, actor, area.id)}


PAGE_ROWS = 50  # rows per page of a list
MAX_PAGES = 200  # paging is bounded: beyond it, narrow the filters


def _paging() -> int:
    number = whole_number(request.args.get("page", "1"), "query:page")
    if not 1 <= number <= MAX_PAGES:
        raise Invalid(f"page must be 1 to {MAX_PAGES}", errors={"page": ["out of range"]})
    return number


def _choice(name: str, allowed, default: str) -> str:
    value = request.args.get(name) or default
    if value not in allowed:
        raise Invalid(f"unknown {name} {value!r}", errors={name: ["unknown"]})
    return value


@page("reports", _l("Reports"))
def reports_page(s, actor, area):
    status = request.args.get("status") or None
    category = request.args.get("category") or None
    if status is not None and status not in STATUS_TRANSITIONS:
        raise Invalid(f"unknown status {status!r}", errors={"status": ["unknown"]})
    words = (request.args.get("q") or "").strip()[:100] or None
    sort = _choice("sort", REPORT_SORTS, "newest")
    number = _paging()
    first, last = _day("start"), _day("end")
    if first and last and last < first:
        raise Invalid("the period ends before it starts", errors={"end": ["before start"]})
    start_at = localtime.day_bounds(first, first, area.timezone)[0] if first else None
    end_at = localtime.day_bounds(last, last, area.timezone)[1] if last else None
    rows = report_listing.list_reports(
        s,
        actor,
        area.id,
        status=status,
        category=category,
        start=datetime.fromisoformat(start_at) if start_at else None,
        end=datetime.fromisoformat(end_at) if end_at else None,
        q=words,
        sort=sort,
        limit=PAGE_ROWS + 1,  # one more: is there a next page
        offset=(number - 1) * PAGE_ROWS,
    )
    return {
        "reports": rows[:PAGE_ROWS],
        "status": status,
        "category": category,
        "statuses": list(STATUS_TRANSITIONS),
        "q": words,
        "sort": sort,
        "sorts": REPORT_SORTS,
        "start": first,
        "end": last,
        "page_number": number,
        "has_next": len(rows) > PAGE_ROWS,
    }


@page("patrols", _l("Patrols"))
def patrols_page(s, actor, area):
    p = _period(area)
    words = (request.args.get("q") or "").strip()[:100] or None
    sort = _choice("sort", PATROL_ORDERS, "newest")
    number = _paging()
    rows = browse.patrols(
        s,
        actor,
        area.id,
        p,
        q=words,
        sort=sort,
        limit=PAGE_ROWS + 1,
        offset=(number - 1) * PAGE_ROWS,
    )
    return {
        "period": p,
        "patrols": rows[:PAGE_ROWS],
        "q": words,
        "sort": sort,
        "page_number": number,
        "has_next": len(rows) > PAGE_ROWS,
    }


@page("analytics", _l("Coverage & effort"))
def analytics_page(s, actor, area):
    p = _period(area)
    return {
        "period": p,
        "summary": coverage.summary(s, actor, area.id, p),
        "plans": plans.list_plans(s, actor, area.id),
    }


@page("devices", _l("Devices"))
def devices_page(s, actor, area):
    hours = whole_number(request.args.get("stale_hours", "24"), "query:stale_hours")
    if not 1 <= hours <= 8760:
        raise Invalid("stale_hours must be 1 to 8760", errors={"stale_hours": ["out of range"]})
    rows = devices.health(s, actor, area.id, hours, datetime.now(UTC))
    return {"devices": rows, "stale_hours": hours}


@page("review", _l("Sync review"))
def review_page(s, actor, area):
    return {
        "quarantine": review.list_quarantine(s, actor, area.id, "open"),
        "conflicts": review.list_conflicts(s, actor, area.id, "open"),
    }


DETAILED_ALERTS = 20  # active alerts shown with who has and has not seen them


@page("alerts", _l("Alerts"))
def alerts_page(s, actor, area):
    live = alerts.list_alerts(s, actor, area.id, active=True)
    words = (request.args.get("q") or "").strip()[:100] or None
    sort = _choice("sort", ("newest", "oldest"), "newest")
    number = _paging()
    first, last = _day("start"), _day("end")
    if first and last and last < first:
        raise Invalid("the period ends before it starts", errors={"end": ["before start"]})
    past = alerts.list_alerts(
        s,
        actor,
        area.id,
        active=False,
        ended=True,
        limit=PAGE_ROWS + 1,
        offset=(number - 1) * PAGE_ROWS,
        words=words,
        since=localtime.day_start(first, area.timezone) if first else None,
        until=localtime.day_start(last + timedelta(days=1), area.timezone) if last else None,
        oldest_first=sort == "oldest",
    )
    detailed = [alerts.get_alert(s, actor, a.id) for a in live[:DETAILED_ALERTS]]
    escalate_after = safety_settings.get_settings(s, actor, area.id).escalate_after_min
    return {
        "active": detailed + live[DETAILED_ALERTS:],
        "now": datetime.now(UTC),
        "past": past[:PAGE_ROWS],
        "escalate_after_min": escalate_after,
        "severities": SEVERITIES,
        "q": words,
        "sort": sort,
        "start": first,
        "end": last,
        "page_number": number,
        "has_next": len(past) > PAGE_ROWS,
    }


def _signed_in():
    if not session.get("token"):
        return None
    try:
        return current_actor()
    except Unauthenticated:
        session.clear()
        return None


def render_page(template: str, area_key: str, current: str, **context):
    actor = _signed_in()
    if actor is None:
        return redirect(url_for("pages.login_form", next=here()))
    s = read_db()
    area = areas.get_area(s, actor, area_key)
    authorize(actor, Action.REPORT_TRIAGE, area.id, "area")  # the dashboard is for managers
    # First: the operations banner's live feed resumes after the events the page was made with.
    live_after = safety_events.latest_id(s, area.id)
    extra = context.pop("render")(s, actor, area) if "render" in context else {}
    return render_template(
        template,
        area=area,
        pages=PAGES.values(),
        current=current,
        live_after=live_after,
        **context,
        **extra,
    )


@blp.get("/areas/<area>/")
def area_home(area: str):
    return redirect(url_for("area_pages.area_page", area=area, key="map"))


@blp.get("/areas/<area>/<key>")
def area_page(area: str, key: str):
    selected = PAGES.get(key)
    if selected is None:
        raise NotFound(f"no page {key!r}")
    return render_page(f"area/{key}.html", area, key, render=selected.render)


@blp.get("/areas/<area>/reports/<uuid:report_id>")
def report_page(area: str, report_id: uuid.UUID):
    def render(s, actor, a):
        report = reports.get_report(s, actor, report_id)
        if report.area_id != a.id:
            raise NotFound("no such report in this area")
        point = report.geometry.representative_point()
        attachments = report_listing.list_attachments(s, actor, report_id)
        rangersync = current_app.extensions["rangersync"]
        photos = {
            a.id: evidence.capture_facts(
                s, actor, rangersync.evidence, a.id, rangersync.config.max_image_pixels
            )
            for a in attachments
            if a.state == "stored" and a.media_type.startswith("image/")
        }
        return {
            "report": report,
            "next_statuses": sorted(STATUS_TRANSITIONS[report.status]),
            "attachments": attachments,
            "photos": photos,
            "history": report_listing.history(s, actor, report_id),
            "reporter": report_listing.reporter(s, actor, report_id),
            "place": (round(point.y, 5), round(point.x, 5)),
            "report_feature": {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "geometry": mapping(report.geometry),
                        "properties": {
                            "id": str(report.id),
                            "label": report.category,
                            "status": report.status,
                            "observed_at": report.observed_at.isoformat(),
                        },
                    }
                ],
            },
        }

    return render_page("area/report.html", area, "reports", render=render)


@blp.get("/areas/<area>/patrols/<uuid:patrol_id>")
def patrol_page(area: str, patrol_id: uuid.UUID):
    def render(s, actor, a):
        found = browse.patrol(s, actor, patrol_id)
        if found.area_id != a.id:
            raise NotFound("no such patrol in this area")
        features = [
            {
                "type": "Feature",
                "geometry": r.geometry,
                "properties": {
                    "id": str(r.id),
                    "label": r.label,
                    "status": r.status,
                    "observed_at": r.observed_at.isoformat(),
                },
            }
            for r in found.report_list
            if r.geometry is not None
        ]
        return {"patrol": found, "patrol_report_features": features}

    return render_page("area/patrol.html", area, "patrols", render=render)
