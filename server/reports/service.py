"""What reports do for managers: read one, and move it through the triage workflow."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from geoalchemy2.shape import to_shape
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.core import audit
from server.core.db import utcnow
from server.core.errors import Conflict, Invalid
from server.core.policy import Action, Actor, load_in_area
from server.core.versions import RecordVersion
from server.reports.models import STATUS_TRANSITIONS, Attachment, Report, ReportCategory


@dataclass(frozen=True)
class ReportView:
    id: uuid.UUID
    area_id: uuid.UUID
    category: str
    status: str
    priority: int
    version: int
    attributes: dict
    notes: str | None
    geometry: Any
    observed_at: datetime
    observed_at_device: datetime
    clock_suspect: bool
    location_suspect: bool
    patrol_id: uuid.UUID | None
    device_id: uuid.UUID | None
    received_at: datetime
    attachments: list[Attachment]  # declared evidence, stored or still on its way


def _view(session: Session, report: Report) -> ReportView:
    category = session.get(ReportCategory, report.category_id)
    attachments = session.scalars(
        select(Attachment).where(Attachment.report_id == report.id).order_by(Attachment.created_at)
    ).all()
    return ReportView(
        report.id,
        report.area_id,
        category.key,
        report.status,
        report.priority,
        report.version,
        report.attributes,
        report.notes,
        to_shape(report.geom),
        report.observed_at,
        report.observed_at_device,
        report.clock_suspect,
        report.location_suspect,
        report.patrol_id,
        report.device_id,
        report.received_at,
        list(attachments),
    )


def _report(
    session: Session, actor: Actor, report_id: uuid.UUID, action: Action, lock: bool = False
):
    return load_in_area(session, actor, action, Report, report_id, "report", lock=lock)


def get_report(session: Session, actor: Actor, report_id: uuid.UUID) -> ReportView:
    return _view(session, _report(session, actor, report_id, Action.REPORT_VIEW))


def change_status(
    session: Session,
    actor: Actor,
    report_id: uuid.UUID,
    *,
    status: str,
    base_version: int,
    notes: str | None = None,
) -> ReportView:
    """new → in review → confirmed/rejected → closed, on the version the manager saw; the
    device that filed the report learns of it on its next pull."""
    report = _report(session, actor, report_id, Action.REPORT_TRIAGE, lock=True)
    if base_version != report.version:
        raise Conflict(
            f"the report changed since you read it (you saw version {base_version}, it is at "
            f"{report.version}); reload it and decide again",
            extra={"current_version": report.version},
        )
    if status not in STATUS_TRANSITIONS[report.status]:
        allowed = " or ".join(sorted(STATUS_TRANSITIONS[report.status])) or "nowhere"
        raise Invalid(
            f"a report goes from {report.status} to {allowed}",
            errors={"/status": [f"not allowed from {report.status}"]},
        )
    previous = report.status
    report.status = status
    if notes is not None:
        report.notes = notes
    report.version += 1
    report.updated_at = utcnow()
    session.add(
        RecordVersion(
            kind="report",
            record_id=report.id,
            version=report.version,
            area_id=report.area_id,
            data={
                "attributes": report.attributes,
                "status": status,
                "priority": report.priority,
                "notes": report.notes,
            },
            user_id=actor.user_id,
        )
    )
    audit.record(
        session,
        actor,
        "report.status",
        "report",
        report.id,
        area_id=report.area_id,
        status_from=previous,
        status_to=status,
    )
    session.flush()
    return _view(session, report)
