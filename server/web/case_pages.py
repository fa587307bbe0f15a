"""The dashboard's evidence pages: the park's cases and evidence items, one case (counts and
outcomes, never a suspect's data: the dashboard is for managers), one item with its custody
timeline and flags, and an item's label to print and stick on the bag (number, QR code,
description, seal).

Registered on the area pages' blueprint (`@page`), so the navigation lists them; imported by the
app before that blueprint is registered.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import segno
from flask import current_app, request, url_for

from server.cases import custody, lab
from server.cases import service as cases
from server.core.errors import NotFound
from server.core.i18n import lazy_gettext as _l
from server.core.policy import Action
from server.web.area_pages import blp, page, render_page


def local(moment: datetime | str | None, zone: str) -> str:
    """A time as people of the park read it, with the zone named."""
    if moment is None:
        return "—"
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return f"{moment.astimezone(ZoneInfo(zone)):%Y-%m-%d %H:%M} ({zone})"


@page("cases", _l("Cases"))
def cases_page(s, actor, area):
    return {
        "cases": cases.list_cases(s, actor, area.id),
        "items": custody.list_items(s, actor, str(area.id)),
        "local": lambda t: local(t, area.timezone),
    }


@blp.get("/areas/<area>/cases/<uuid:case_id>")
def case_page(area: str, case_id: uuid.UUID):
    def render(s, actor, a):
        view = cases.get_case(s, actor, case_id)
        if view.case.area_id != a.id:
            raise NotFound("no such case in this area")
        items = [custody.describe(s, i) for i in cases.case_items(s, view.case)]
        return {
            "view": view,
            "items": items,
            "results": lab.results_for_items(s, a.id, [i.item.id for i in items]),
            "may_package": actor.may(Action.CASE_MANAGE, a.id),
            "local": lambda t: local(t, a.timezone),
        }

    return render_page("area/case.html", area, "cases", render=render)


@blp.get("/areas/<area>/evidence/<uuid:item_id>")
def item_page(area: str, item_id: uuid.UUID):
    def render(s, actor, a):
        view = custody.item_view(s, actor, item_id)
        if view.item.area_id != a.id:
            raise NotFound("no such item in this area")
        store = current_app.extensions["rangersync"].evidence
        file_flag = custody.stored_file_flag(s, store, view.item)
        return {
            "view": view,
            "file_flag": file_flag,
            "results": lab.results_for_items(s, a.id, [view.item.id]),
            "local": lambda t: local(t, a.timezone),
        }

    return render_page("area/evidence_item.html", area, "cases", render=render)


@blp.get("/areas/<area>/evidence/<uuid:item_id>/label")
def label_page(area: str, item_id: uuid.UUID):
    """The label: its QR code holds the item's page, so a scan at the store opens its custody."""

    def render(s, actor, a):
        view = custody.item_view(s, actor, item_id)
        if view.item.area_id != a.id:
            raise NotFound("no such item in this area")
        link = request.url_root.rstrip("/") + url_for(
            "area_pages.item_page", area=a.slug, item_id=view.item.id
        )
        seals = [e["body"].get("seal_number") for e in view.entries]
        return {
            "view": view,
            "qr": segno.make(link, error="q").svg_inline(scale=3),
            "seal": next((seal for seal in reversed(seals) if seal), None),
            "taken": local(view.entries[0]["body"]["at"], a.timezone) if view.entries else "—",
        }

    return render_page("area/evidence_label.html", area, "cases", render=render)
