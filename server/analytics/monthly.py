"""The monthly park report's content: one month of an area, in the area's local days, gathered
from the analytics services the dashboard uses (coverage, effort, CPUE, plan scores) and from
the reports and their photos, for server/analytics/monthly_pdf.py to lay out."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.orm import Session

from server.analytics import browse, coverage, effort, findings, plans
from server.analytics.common import Period
from server.areas import service as areas
from server.areas.service import AreaView
from server.core.errors import Invalid, NotFound
from server.core.policy import Action, Actor, authorize
from server.evidence import service as evidence
from server.evidence.storage import FileStore
from server.reports import service as reports
from server.reports.service import ReportView

NOTABLE_INCIDENTS = 8  # the month's most urgent reports, with their photos
PHOTOS_PER_INCIDENT = 3

# The month's reports that are not rejected, most urgent first (priority 1 is urgent), then
# confirmed before unconfirmed, then the newest; local days of the area, as the findings count.
NOTABLE = """
    SELECT r.id, c.label
    FROM reports r JOIN report_categories c ON c.id = r.category_id JOIN areas a ON a.id = r.area_id
    WHERE r.area_id = :area AND r.status <> 'rejected'
      AND (r.observed_at AT TIME ZONE a.timezone)::date BETWEEN :start AND :end
    ORDER BY r.priority, r.status = 'confirmed' DESC, r.observed_at DESC, r.id
    LIMIT :limit"""
COUNTS = """
    SELECT count(*) FILTER (WHERE r.status <> 'rejected') AS reports,
           count(*) FILTER (WHERE r.status = 'confirmed') AS confirmed
    FROM reports r JOIN areas a ON a.id = r.area_id
    WHERE r.area_id = :area
      AND (r.observed_at AT TIME ZONE a.timezone)::date BETWEEN :start AND :end"""


@dataclass(frozen=True)
class Incident:
    report: ReportView
    label: str  # the category's label
    photos: list[Path]  # thumbnails of its stored photos


@dataclass(frozen=True)
class MonthlyReport:
    area: AreaView
    month: date  # its first day
    period: Period
    generated_at: datetime
    coverage: coverage.CoverageSummary
    cells: list[dict]  # visited cells with their hours and a GeoJSON polygon
    layers: list[dict]  # the boundary and the zones, GeoJSON
    patrols: list[browse.PatrolWithEffort]  # with their simplified tracks
    effort_by_type: list[dict]
    effort_by_ranger: list[dict]
    cpue: list[dict]
    plans: list[dict]  # plans overlapping the month, with their scores
    reports: int
    confirmed: int
    incidents: list[Incident]


def parse_month(raw: str | None) -> date:
    """ "2026-11" → 2026-11-01; anything else is refused, with what was expected."""
    try:
        year, month = (raw or "").split("-")
        if len(year) != 4 or len(month) != 2:
            raise ValueError(raw)
        return date(int(year), int(month), 1)
    except ValueError:
        raise Invalid("month must be YYYY-MM", errors={"query:/month": ["not a month"]}) from None


def month_period(first: date) -> Period:
    following = (first + timedelta(days=32)).replace(day=1)
    return Period(first, following - timedelta(days=1))


def _photos(session: Session, actor: Actor, store: FileStore, report: ReportView) -> list[Path]:
    found = []
    for attachment in report.attachments:
        if attachment.state != "stored" or not attachment.media_type.startswith("image/"):
            continue
        try:
            path, _, _ = evidence.evidence_file(
                session, actor, store, attachment.id, thumbnail=True
            )
        except NotFound:  # a photo the server could not decode has no thumbnail
            continue
        found.append(path)
        if len(found) == PHOTOS_PER_INCIDENT:
            break
    return found


def monthly_report(
    session: Session,
    actor: Actor,
    store: FileStore,
    area_id: uuid.UUID,
    month: date,
    max_cells: int,
) -> MonthlyReport:
    authorize(actor, Action.ANALYTICS_VIEW, area_id, "area")
    area = areas.get_area(session, actor, area_id)
    p = month_period(month)
    params = {"area": area_id, "start": p.start, "end": p.end}
    notable = session.execute(text(NOTABLE), params | {"limit": NOTABLE_INCIDENTS}).all()
    counts = session.execute(text(COUNTS), params).one()
    incidents = []
    for report_id, label in notable:
        report = reports.get_report(session, actor, report_id)
        incidents.append(Incident(report, label, _photos(session, actor, store, report)))
    return MonthlyReport(
        area=area,
        month=month,
        period=p,
        generated_at=datetime.now(UTC).astimezone(ZoneInfo(area.timezone)),
        coverage=coverage.summary(session, actor, area_id, p),
        cells=coverage.cells(session, actor, area_id, p, max_cells),
        layers=[
            x for x in browse.layers(session, actor, area_id) if x["layer"] in {"boundary", "zone"}
        ],
        patrols=browse.patrols(session, actor, area_id, p, with_tracks=True),
        effort_by_type=effort.effort(session, actor, area_id, p, "patrol_type"),
        effort_by_ranger=effort.effort(session, actor, area_id, p, "ranger"),
        cpue=findings.cpue(session, actor, area_id, p, None),
        plans=[
            plan
            for plan in plans.list_plans(session, actor, area_id)
            if plan["starts_on"] <= p.end and plan["ends_on"] >= p.start
        ],
        reports=counts.reports,
        confirmed=counts.confirmed,
        incidents=incidents,
    )
