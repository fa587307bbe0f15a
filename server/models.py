"""Every table, imported in one place so Alembic and the tests see the whole metadata."""

from server.accounts.models import ApiToken, Membership, Team, TeamMember, User
from server.alerts.models import AlertAck, AlertMatch, SafetyAlert
from server.analytics.models import (
    CoverageSetting,
    CoverageVisit,
    PatrolEffort,
    PatrolPlan,
    ZoneVisit,
)
from server.areas.models import Area, MapFeature, Zone
from server.core.audit import AuditEntry
from server.core.db import Base
from server.devices.models import Device, EnrolmentCode
from server.evidence.models import Upload
from server.maps.models import MapBasemap, MapPackage
from server.notify.models import Notification
from server.patrols.models import Patrol, PatrolLeg, PatrolMember, TrackPoint
from server.reports.models import Attachment, Report, ReportCategory, ReportCategoryVersion
from server.safety.models import DevicePosition, SafetyEvent, SafetySettings, SosCall
from server.sync.models import (
    DeviceStatus,
    QuarantinedRecord,
    RecordVersion,
    SyncConflict,
    SyncReceipt,
    SyncSession,
    Tombstone,
)

metadata = Base.metadata

__all__ = [
    "AlertAck",
    "AlertMatch",
    "ApiToken",
    "Area",
    "Attachment",
    "AuditEntry",
    "CoverageSetting",
    "CoverageVisit",
    "Device",
    "DevicePosition",
    "DeviceStatus",
    "EnrolmentCode",
    "MapBasemap",
    "MapFeature",
    "MapPackage",
    "Membership",
    "Notification",
    "Patrol",
    "PatrolEffort",
    "PatrolLeg",
    "PatrolMember",
    "PatrolPlan",
    "QuarantinedRecord",
    "RecordVersion",
    "Report",
    "ReportCategory",
    "ReportCategoryVersion",
    "SafetyAlert",
    "SafetyEvent",
    "SafetySettings",
    "SosCall",
    "SyncConflict",
    "SyncReceipt",
    "SyncSession",
    "Team",
    "TeamMember",
    "Tombstone",
    "TrackPoint",
    "Upload",
    "User",
    "Zone",
    "ZoneVisit",
    "metadata",
]
