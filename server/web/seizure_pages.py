"""The dashboard's seizure pages: the list with filters, the year's CITES report to download,
the trends, a form for managers, and one seizure with its items, photos, reports and patrol.

Registered on the area pages' blueprint (`@page`), so the navigation lists them; imported by the
app before that blueprint is registered.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from flask import request

from schemas.seizures import (
    DETECTION_METHODS,
    REASONS,
    SOURCES,
    TERMS,
    TRANSPORT_MODES,
    UNITS,
)
from server.analytics import browse
from server.cases import custody, lab
from server.core.errors import Invalid, NotFound
from server.core.i18n import lazy_gettext as _l
from server.seizures import service, trends
from server.web.area_pages import blp, page, render_page


def _year() -> int:
    raw = request.args.get("year") or str(datetime.now(UTC).year)
    if not raw.isdigit() or not 2000 <= int(raw) <= 2100:
        raise Invalid("year must be 2000 to 2100", errors={"year": ["out of range"]})
    return int(raw)


@page("seizures", _l("Seizures"))
def seizures_page(s, actor, area):
    year = _year()
    term = request.args.get("term") or None
    if term is not None and term not in TERMS:
        raise Invalid(f"unknown CITES term {term!r}", errors={"term": ["unknown"]})
    rows = service.list_seizures(s, actor, area.id, year=year, term=term, limit=500)
    period = {"start": date(year, 1, 1), "end": date(year, 12, 31)}
    return {
        "year": year,
        "selected_term": term,  # (`term` names the vocabularies' labels in templates)
        "seizures": [service.describe(s, x) for x in rows],
        "by_term": trends.trend(s, actor, "term", area=str(area.id), **period),
        "by_month": trends.trend(s, actor, "month", area=str(area.id), **period),
        "by_route": trends.trend(s, actor, "route", area=str(area.id), **period),
        "vocab": {
            "terms": TERMS,
            "units": UNITS,
            "sources": SOURCES,
            "detection": DETECTION_METHODS,
            "transport": TRANSPORT_MODES,
            "reasons": REASONS,
        },
        "centre": [
            round((area.bbox[0] + area.bbox[2]) / 2, 5),
            round((area.bbox[1] + area.bbox[3]) / 2, 5),
        ],
    }


@blp.get("/areas/<area>/seizures/<uuid:seizure_id>")
def seizure_page(area: str, seizure_id: uuid.UUID):
    def render(s, actor, a):
        seizure = service.get_seizure(s, actor, seizure_id)
        if seizure.area_id != a.id:
            raise NotFound("no such seizure in this area")
        view = service.describe(s, seizure)
        photos = [att for rid in view["report_ids"] for att in browse.attachments(s, actor, rid)]
        shown = {str(p["id"]) for p in photos}
        return {
            "seizure": view,
            "photos": photos,
            "other_evidence": [i for i in view["attachment_ids"] if str(i) not in shown],
            "versions": service.versions(s, actor, seizure_id),
            "evidence_items": custody.list_items(s, actor, str(a.id), seizure_id=seizure_id),
            "forensic": lab.forensic_links(s, actor, seizure_id),
            "vocab": {"detection": DETECTION_METHODS, "transport": TRANSPORT_MODES},
        }

    return render_page("area/seizure.html", area, "seizures", render=render)
