"""HTTP endpoints of reports for managers: read one, triage it."""

from __future__ import annotations

import uuid

from schemas.reports import CategoryIn, CategoryOut, ReportOut, StatusChange
from server.core.api import API_PREFIX, Blueprint
from server.core.web import commit, current_actor, db
from server.reports import park_categories, service

blp = Blueprint("reports", __name__, url_prefix=API_PREFIX, description="Reports and their triage")


@blp.get("/reports/<uuid:report_id>")
@blp.response(200, ReportOut)
def get_report(report_id: uuid.UUID):
    """One report, with its version (send it back when you change the status)."""
    return service.get_report(db(), current_actor(), report_id)


@blp.put("/areas/<area>/categories")
@blp.arguments(CategoryIn(many=True))
@blp.response(200, CategoryOut(many=True))
def put_categories(specs, area: str):
    """Add or change the park's own report categories (admins): a changed one gets a new
    version, delivered to devices by their next pull; reports made on an older version stay
    valid. Unlisted categories are left as they are."""
    return commit(park_categories.put_categories(db(), current_actor(), area, specs))


@blp.post("/reports/<uuid:report_id>/status")
@blp.arguments(StatusChange)
@blp.response(200, ReportOut)
def change_status(change, report_id: uuid.UUID):
    """Move a report through new → in review → confirmed/rejected → closed (managers)."""
    return commit(service.change_status(db(), current_actor(), report_id, **change))
