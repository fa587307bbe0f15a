"""HTTP endpoints of reports for managers: read one, triage it."""

from __future__ import annotations

import uuid

from schemas.reports import ReportOut, StatusChange
from server.core.api import API_PREFIX, Blueprint
from server.core.web import commit, current_actor, db
from server.reports import service

blp = Blueprint("reports", __name__, url_prefix=API_PREFIX, description="Reports and their triage")


@blp.get("/reports/<uuid:report_id>")
@blp.response(200, ReportOut)
def get_report(report_id: uuid.UUID):
    """One report, with its version (send it back when you change the status)."""
    return service.get_report(db(), current_actor(), report_id)


@blp.post("/reports/<uuid:report_id>/status")
@blp.arguments(StatusChange)
@blp.response(200, ReportOut)
def change_status(change, report_id: uuid.UUID):
    """Move a report through new → in review → confirmed/rejected → closed (managers)."""
    return commit(service.change_status(db(), current_actor(), report_id, **change))
