"""Tables of report categories (hierarchical, with attribute schemas), reports, attachments."""

from __future__ import annotations

import uuid
from datetime import datetime

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    false,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from server.core.db import Base, ChangeTracked, created_at_column, geometry_ok, new_id, one_of

REPORT_STATUSES = ("new", "in_review", "confirmed", "rejected", "closed")
# The triage workflow: new → in review → confirmed/rejected → closed.
STATUS_TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"in_review"}),
    "in_review": frozenset({"confirmed", "rejected"}),
    "confirmed": frozenset({"closed"}),
    "rejected": frozenset({"closed"}),
    "closed": frozenset(),
}
ATTACHMENT_STATES = ("expected", "uploading", "stored", "failed")
GEOMETRY_KINDS = ("point", "polygon", "point_or_polygon")


class ReportCategory(ChangeTracked, Base):
    """A kind of report (snare, carcass…): the standard ones for all areas (area_id NULL,
    replicated on Citus) and each park's own. Changing one makes a new version; the versions are
    kept (ReportCategoryVersion) so that a report made under an older one stays valid."""

    __tablename__ = "report_categories"
    __table_args__ = (
        CheckConstraint("key ~ '^[a-z0-9_]+(\\.[a-z0-9_]+)*$'", name="key_format"),
        one_of("geometry_kind", GEOMETRY_KINDS),
        Index(
            "uq_report_categories_standard_key",
            "key",
            unique=True,
            postgresql_where=text("area_id IS NULL"),
        ),
        Index(
            "uq_report_categories_area_key",
            "area_id",
            "key",
            unique=True,
            postgresql_where=text("area_id IS NOT NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    area_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("areas.id"))  # None: standard
    version: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))
    key: Mapped[str] = mapped_column(String(100))
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("report_categories.id"))
    label: Mapped[str] = mapped_column(Text)
    # A JSON Schema (draft 2020-12 subset) for the report's `attributes`.
    attribute_schema: Mapped[dict] = mapped_column(JSONB, default=dict)
    geometry_kind: Mapped[str] = mapped_column(String(20), default="point")
    hostile: Mapped[bool] = mapped_column(Boolean, default=False)  # feeds the safety rules
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)  # never shown to partners
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ReportCategoryVersion(Base):
    """What a category said at each version: reports are checked against the one they name."""

    __tablename__ = "report_category_versions"

    category_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("report_categories.id"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    label: Mapped[str] = mapped_column(Text)
    attribute_schema: Mapped[dict] = mapped_column(JSONB)
    geometry_kind: Mapped[str] = mapped_column(String(20))
    changed_by: Mapped[uuid.UUID | None] = mapped_column()
    created_at: Mapped[datetime] = created_at_column()


class Report(ChangeTracked, Base):
    __tablename__ = "reports"
    __table_args__ = (
        geometry_ok("geom"),
        one_of("status", REPORT_STATUSES),
        CheckConstraint("priority BETWEEN 1 AND 4", name="priority_range"),
        CheckConstraint("GeometryType(geom) IN ('POINT', 'POLYGON')", name="geom_point_or_polygon"),
        Index("ix_reports_area_id_observed_at", "area_id", "observed_at"),
        Index("ix_reports_area_id_status", "area_id", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)  # the device's UUID
    area_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"))
    category_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("report_categories.id"))
    category_version: Mapped[int | None] = mapped_column(Integer)  # the schema it was checked by
    patrol_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("patrols.id"))
    device_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("devices.id"))
    reported_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    attributes: Mapped[dict] = mapped_column(JSONB, default=dict)
    geom = mapped_column(Geometry("GEOMETRY", srid=4326, spatial_index=True), nullable=False)
    observed_at_device: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # as sent
    observed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # clock-corrected
    clock_skew_s: Mapped[float | None] = mapped_column(Float)
    clock_suspect: Mapped[bool] = mapped_column(Boolean, default=False)  # skew beyond tolerance
    # where it was said to be lies far outside the park: stored (nothing is thrown away) and
    # shown flagged, for a manager to judge (a GPS fix gone wrong, a device in the wrong park)
    location_suspect: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    status: Mapped[str] = mapped_column(String(16), default="new")
    priority: Mapped[int] = mapped_column(SmallInteger, default=3)  # 1 urgent … 4 low
    notes: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(BigInteger, default=1)
    received_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = created_at_column()


class Attachment(Base):
    """An evidence file a report declares; the bytes arrive later, by resumable upload."""

    __tablename__ = "attachments"
    __table_args__ = (
        one_of("state", ATTACHMENT_STATES),
        CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="sha256_hex"),
        CheckConstraint("size_bytes >= 0", name="size_non_negative"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)  # the device's UUID
    area_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"))
    report_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("reports.id", ondelete="CASCADE"), index=True
    )
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="expected")
    created_at: Mapped[datetime] = created_at_column()
    stored_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
