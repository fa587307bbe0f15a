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
from datetime import UTC, date, datetime

from flask import Blueprint, redirect, render_template, request, session, url_for

from schemas.alerts import SEVERITIES
from server.analytics import browse, coverage, devices, plans
from server.analytics.common import period
from server.areas import service as areas
from server.core.errors import Invalid, NotFound, Unauthenticated
from server.core.i18n import lazy_gettext as _l
from server.core.params import whole_number
from server.core.policy import Action, authorize
from server.core.web import current_actor, read_db
from server.maps import layers as map_layers
from server.reports import listing as report_listing
from server.reports import service as reports
from server.reports.models import STATUS_TRANSITIONS
from server.safety import alerts
from server.safety import events as safety_events
from server.safety import settings as safety_settings
from server.sync import review

blp = Blueprint("area_pages", __name__)


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


def _period():
    return period(_day("start"), _day("end"))


@page("map", _l("Map"))
def map_page(s, actor, area):
    return {"period": _period()}


@page("layers", _l("Layers"))
def layers_page(s, actor, area):
    return {"layers": map_layers.list_layers(s, actor, area.id)}


@page("reports", _l("Reports"))
def reports_page(s, actor, area):
    status = request.args.get("status") or None
    category = request.args.get("category") or None
    if status is not None and status not in STATUS_TRANSITIONS:
        raise Invalid(f"unknown status {status!r}", errors={"status": ["unknown"]})
    rows = report_listing.list_reports(
        s,
        actor,
        area.id,
        status=status,
        category=category,
        start=None,
        end=None,
        limit=500,
        offset=0,
    )
    return {
        "reports": rows,
        "status": status,
        "category": category,
        "statuses": list(STATUS_TRANSITIONS),
    }


@page("patrols", _l("Patrols"))
def patrols_page(s, actor, area):
    p = _period()
    return {"period": p, "patrols": browse.patrols(s, actor, area.id, p)}


@page("analytics", _l("Coverage & effort"))
def analytics_page(s, actor, area):
    p = _period()
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


RECENT_ALERTS = 30  # the newest ended or cancelled alerts shown below the active ones
DETAILED_ALERTS = 20  # active alerts shown with who has and has not seen them


@page("alerts", _l("Alerts"))
def alerts_page(s, actor, area):
    seen_events = safety_events.latest_id(s, area.id)  # first: the live feed resumes after it
    live = alerts.list_alerts(s, actor, area.id, active=True)
    live_ids = {a.id for a in live}
    recent = alerts.list_alerts(s, actor, area.id, active=False, limit=RECENT_ALERTS)
    detailed = [alerts.get_alert(s, actor, a.id) for a in live[:DETAILED_ALERTS]]
    escalate_after = safety_settings.get_settings(s, actor, area.id).escalate_after_min
    return {
        "active": detailed + live[DETAILED_ALERTS:],
        "now": datetime.now(UTC),
        "past": [a for a in recent if a.id not in live_ids],
        "escalate_after_min": escalate_after,
        "severities": SEVERITIES,
        "after_event": seen_events,
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
        return redirect(url_for("pages.login_form", next=request.path))
    s = read_db()
    area = areas.get_area(s, actor, area_key)
    authorize(actor, Action.REPORT_TRIAGE, area.id, "area")  # the dashboard is for managers
    extra = context.pop("render")(s, actor, area) if "render" in context else {}
    return render_template(
        template, area=area, pages=PAGES.values(), current=current, **context, **extra
    )


@blp.get("/areas/<area>/")
def area_home(area: str):
    return redirect(url_for("area_pages.area_page", area=area, key="map"))


@blp.get("/areas/<area>/<key>")
def area_page(area: str, key: str):
    selected = PAGES.get(key)
    if selected is None:
        return render_template("area/missing.html", key=key), 404
    return render_page(f"area/{key}.html", area, key, render=selected.render)


@blp.get("/areas/<area>/reports/<uuid:report_id>")
def report_page(area: str, report_id: uuid.UUID):
    def render(s, actor, a):
        report = reports.get_report(s, actor, report_id)
        if report.area_id != a.id:
            raise NotFound("no such report in this area")
        return {
            "report": report,
            "next_statuses": sorted(STATUS_TRANSITIONS[report.status]),
            "attachments": report_listing.list_attachments(s, actor, report_id),
        }

    return render_page("area/report.html", area, "reports", render=render)


@blp.get("/areas/<area>/patrols/<uuid:patrol_id>")
def patrol_page(area: str, patrol_id: uuid.UUID):
    def render(s, actor, a):
        found = browse.patrol(s, actor, patrol_id)
        if found.area_id != a.id:
            raise NotFound("no such patrol in this area")
        return {"patrol": found}

    return render_page("area/patrol.html", area, "patrols", render=render)
