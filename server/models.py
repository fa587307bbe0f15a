"""Every table, imported in one place so Alembic and the tests see the whole metadata."""

from server.accounts.models import ApiToken, Membership, Team, TeamMember, User
from server.analytics.models import (
    CoverageSetting,
    CoverageVisit,
    PatrolEffort,
    PatrolPlan,
    ZoneVisit,
)
from server.areas.models import Area, MapFeature, Zone
from server.cases.models import (
    Case,
    CaseLink,
    CustodyEntry,
    EvidenceItem,
    Handover,
    LabResult,
    Receipt,
    Suspect,
)
from server.core.audit import AuditEntry
from server.core.db import Base
from server.core.ratelimit import RateLimitCounter, RateLimitHit
from server.core.versions import RecordVersion
from server.devices.models import Device, EnrolmentCode
from server.evidence.models import Upload
from server.exports.models import ExportJob
from server.maps.models import MapBasemap, MapImportSource, MapPackage
from server.notify.models import Notification
from server.partners.models import (
    GeoprivacyRule,
    PartnerKey,
    PartnerKeyArea,
    PartnerRequest,
)
from server.patrols.models import Patrol, PatrolLeg, PatrolMember, TrackPoint
from server.reports.models import Attachment, Report, ReportCategory, ReportCategoryVersion
from server.safety.models import (
    AlertAck,
    AlertMatch,
    DevicePosition,
    SafetyAlert,
    SafetyEvent,
    SafetySettings,
    SosCall,
)
from server.seizures.models import AreaCitesParty, Seizure, SeizureItem, SeizureVersion
from server.species.models import Taxon
from server.sync.models import (
    DeviceStatus,
    QuarantinedRecord,
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
    "AreaCitesParty",
    "Attachment",
    "AuditEntry",
    "Case",
    "CaseLink",
    "CoverageSetting",
    "CoverageVisit",
    "CustodyEntry",
    "Device",
    "DevicePosition",
    "DeviceStatus",
    "EnrolmentCode",
    "EvidenceItem",
    "ExportJob",
    "GeoprivacyRule",
    "Handover",
    "LabResult",
    "MapBasemap",
    "MapFeature",
    "MapImportSource",
    "MapPackage",
    "Membership",
    "Notification",
    "PartnerKey",
    "PartnerKeyArea",
    "PartnerRequest",
    "Patrol",
    "PatrolEffort",
    "PatrolLeg",
    "PatrolMember",
    "PatrolPlan",
    "QuarantinedRecord",
    "RateLimitCounter",
    "RateLimitHit",
    "Receipt",
    "RecordVersion",
    "Report",
    "ReportCategory",
    "ReportCategoryVersion",
    "SafetyAlert",
    "SafetyEvent",
    "SafetySettings",
    "Seizure",
    "SeizureItem",
    "SeizureVersion",
    "SosCall",
    "Suspect",
    "SyncConflict",
    "SyncReceipt",
    "SyncSession",
    "Taxon",
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
