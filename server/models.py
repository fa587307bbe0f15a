"""Every table, imported in one place so Alembic and the tests see the whole metadata."""

from server.accounts.models import ApiToken, Membership, Team, TeamMember, User
from server.alerts.models import SafetyAlert
from server.areas.models import Area, MapFeature, Zone
from server.core.audit import AuditEntry
from server.core.db import Base
from server.devices.models import Device, EnrolmentCode
from server.patrols.models import Patrol, PatrolLeg, PatrolMember, TrackPoint
from server.reports.models import Attachment, Report, ReportCategory

metadata = Base.metadata

__all__ = [
    "ApiToken",
    "Area",
    "Attachment",
    "AuditEntry",
    "Device",
    "EnrolmentCode",
    "MapFeature",
    "Membership",
    "Patrol",
    "PatrolLeg",
    "PatrolMember",
    "Report",
    "ReportCategory",
    "SafetyAlert",
    "Team",
    "TeamMember",
    "TrackPoint",
    "User",
    "Zone",
    "metadata",
]
