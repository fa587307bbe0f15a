"""Lists of reports as typed rows: an area's reports to triage (filtered, newest first), the
reports filed on one patrol, a report's attachments, and report counts per patrol."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from server.core.policy import Action, Actor, authorize, load_in_area
from server.reports.models import Report


@dataclass(frozen=True)
class ReportRow:
    id: uuid.UUID
    category: str
    label: str
    status: str
    priority: int
    version: int
    observed_at: datetime
    received_at: datetime
    patrol_id: uuid.UUID | None
    clock_suspect: bool
    notes: str | None
    attachments: int  # how many files the report declared
    geometry: dict[str, Any]  # GeoJSON


@dataclass(frozen=True)
class AttachmentRow:
    id: uuid.UUID
    media_type: str
    size_bytes: int
    sha256: str
    state: str
    stored_at: datetime | None


_REPORTS = """
    SELECT r.id, c.key AS category, c.label, r.status, r.priority, r.version, r.observed_at,
           r.received_at, r.patrol_id, r.clock_suspect, r.notes,
           (SELECT count(*) FROM attachments x WHERE x.report_id = r.id) AS attachments,
           ST_AsGeoJSON(r.geom, 7)::json AS geometry
    FROM reports r JOIN report_categories c ON c.id = r.category_id
"""


def _report_rows(session: Session, sql: str, params: dict) -> list[ReportRow]:
    return [ReportRow(**row) for row in session.execute(text(sql), params).mappings()]


# The orders a list may take: a closed set, so no text from a request reaches ORDER BY.
REPORT_ORDERS = {
    "newest": "r.observed_at DESC, r.id",
    "oldest": "r.observed_at ASC, r.id",
    "priority": "r.priority DESC, r.observed_at DESC, r.id",
    "status": "r.status, r.observed_at DESC, r.id",
}


def list_reports(
    session: Session,
    actor: Actor,
    area_id: uuid.UUID,
    *,
    status: str | None = None,
    category: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    q: str | None = None,
    sort: str = "newest",
    limit: int = 100,
    offset: int = 0,
) -> list[ReportRow]:
    """Reports to triage, filtered by status, category (or its parent), time and words found in
    the category, its label or the notes; newest first unless `sort` (REPORT_ORDERS) says."""
    authorize(actor, Action.REPORT_VIEW, area_id, "area")
    return _report_rows(
        session,
        _REPORTS
        + """WHERE r.area_id = :area
             AND (CAST(:status AS text) IS NULL OR r.status = :status)
             AND (CAST(:category AS text) IS NULL OR c.key = :category
                  OR c.key LIKE CAST(:category AS text) || '.%')
             AND (CAST(:start AS timestamptz) IS NULL OR r.observed_at >= :start)
             AND (CAST(:end AS timestamptz) IS NULL OR r.observed_at < :end)
             AND (CAST(:q AS text) IS NULL
                  OR concat_ws(' ', c.key, c.label, r.notes) ILIKE '%' || CAST(:q AS text) || '%')
           ORDER BY """
        + REPORT_ORDERS[sort]
        + " LIMIT :limit OFFSET :offset",
        {
            "area": area_id,
            "status": status,
            "category": category,
            "start": start,
            "end": end,
            "q": _like(q),
            "limit": limit,
            "offset": offset,
        },
    )


def _like(words: str | None) -> str | None:
    """Search words as a LIKE pattern's middle: the wildcards typed are matched literally."""
    if not words or not words.strip():
        return None
    return words.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def reports_of_patrol(session: Session, patrol_id: uuid.UUID) -> list[ReportRow]:
    """The reports filed on a patrol, in the order they were observed. The caller has
    authorized seeing the patrol."""
    return _report_rows(
        session, _REPORTS + "WHERE r.patrol_id = :p ORDER BY r.observed_at", {"p": patrol_id}
    )


def counts_by_patrol(session: Session, patrol_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    """How many reports were filed on each of these patrols (absent: none)."""
    rows = session.execute(
        text(
            "SELECT patrol_id, count(*) FROM reports WHERE patrol_id = ANY(:ids) GROUP BY patrol_id"
        ),
        {"ids": patrol_ids},
    )
    return {patrol_id: count for patrol_id, count in rows}


def list_attachments(session: Session, actor: Actor, report_id: uuid.UUID) -> list[AttachmentRow]:
    """The files a report declared, with their upload state, in the order they were declared."""
    load_in_area(session, actor, Action.EVIDENCE_VIEW, Report, report_id, "report")
    rows = session.execute(
        text(
            "SELECT id, media_type, size_bytes, sha256, state, stored_at FROM attachments"
            " WHERE report_id = :r ORDER BY created_at, id"
        ),
        {"r": report_id},
    )
    return [AttachmentRow(**row) for row in rows.mappings()]


@dataclass(frozen=True)
class ReportVersionRow:
    version: int
    changed_at: datetime
    by: str | None  # the person (a manager's triage) or the handheld (the ranger's edit)
    status: str | None
    notes: str | None


def history(session: Session, actor: Actor, report_id: uuid.UUID) -> list[ReportVersionRow]:
    """Every version of a report, oldest first, with who made it."""
    load_in_area(session, actor, Action.REPORT_VIEW, Report, report_id, "report")
    rows = session.execute(
        text(
            "SELECT v.version, v.changed_at,"
            " COALESCE(u.display_name, du.display_name || ' (' || d.name || ')', d.name) AS by,"
            " v.data ->> 'status' AS status, v.data ->> 'notes' AS notes"
            " FROM record_versions v LEFT JOIN users u ON u.id = v.user_id"
            " LEFT JOIN devices d ON d.id = v.device_id LEFT JOIN users du ON du.id = d.user_id"
            " WHERE v.kind = 'report' AND v.record_id = :r ORDER BY v.version"
        ),
        {"r": report_id},
    )
    return [ReportVersionRow(**row) for row in rows.mappings()]


def reporter(session: Session, actor: Actor, report_id: uuid.UUID) -> dict | None:
    """Who filed the report: the ranger whose handheld sent it, and the handheld."""
    load_in_area(session, actor, Action.REPORT_VIEW, Report, report_id, "report")
    row = (
        session.execute(
            text(
                "SELECT u.display_name, u.username, u.phone, d.name AS device FROM reports r"
                " JOIN devices d ON d.id = r.device_id JOIN users u ON u.id = d.user_id"
                " WHERE r.id = :r"
            ),
            {"r": report_id},
        )
        .mappings()
        .one_or_none()
    )
    return dict(row) if row else None
