"""Tables of seizures and the items seized (one row per taxon × specimen type × unit)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from geoalchemy2 import Geometry
from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
    Uuid,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from schemas.seizures import DETECTION_METHODS, REASONS, SOURCES, TERMS, TRANSPORT_MODES, UNITS
from server.core.db import Base, ChangeTracked, created_at_column, geometry_ok, one_of


def _countries() -> Mapped[list[str]]:
    return mapped_column(ARRAY(String(2)), default=list, server_default="{}")


class Seizure(ChangeTracked, Base):
    __tablename__ = "seizures"
    __table_args__ = (
        geometry_ok("geom"),
        CheckConstraint("GeometryType(geom) = 'POINT'", name="geom_point"),
        one_of("detection_method", DETECTION_METHODS),
        one_of("transport_mode", TRANSPORT_MODES),
        one_of("reason", REASONS),
        CheckConstraint("agency <> ''", name="agency_not_empty"),
        Index("ix_seizures_area_id_seized_at", "area_id", "seized_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)  # the device's (or manager's) UUID
    area_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"))
    patrol_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("patrols.id"))
    operation: Mapped[str | None] = mapped_column(Text)
    device_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("devices.id"))
    recorded_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    seized_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # clock-corrected
    seized_at_device: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # as sent
    clock_suspect: Mapped[bool] = mapped_column(Boolean, default=False)
    geom = mapped_column(Geometry("POINT", srid=4326, spatial_index=True), nullable=False)
    place_name: Mapped[str | None] = mapped_column(Text)
    agency: Mapped[str] = mapped_column(Text)
    detection_method: Mapped[str] = mapped_column(String(32))
    transport_mode: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(String(32))
    origin_countries: Mapped[list[str]] = _countries()
    transit_countries: Mapped[list[str]] = _countries()
    destination_countries: Mapped[list[str]] = _countries()
    offender_nationalities: Mapped[list[str]] = _countries()
    report_ids: Mapped[list[uuid.UUID]] = mapped_column(
        ARRAY(Uuid()), default=list, server_default="{}"
    )
    attachment_ids: Mapped[list[uuid.UUID]] = mapped_column(
        ARRAY(Uuid()), default=list, server_default="{}"
    )
    reference: Mapped[str | None] = mapped_column(Text)  # the agency's own reference number
    notes: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(BigInteger, default=1)
    received_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = created_at_column()


class SeizureItem(Base):
    __tablename__ = "seizure_items"
    __table_args__ = (
        one_of("term", TERMS),
        one_of("unit", UNITS),
        one_of("source", SOURCES),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("count IS NULL OR count > 0", name="count_positive"),
        CheckConstraint("value IS NULL OR value >= 0", name="value_not_negative"),
        CheckConstraint("(value IS NULL) = (currency IS NULL)", name="value_with_currency"),
        CheckConstraint("taxon_id IS NOT NULL OR taxon_text IS NOT NULL", name="names_a_taxon"),
        Index("ix_seizure_items_area_id_taxon_id", "area_id", "taxon_id"),
    )

    seizure_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("seizures.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    area_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"))
    taxon_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("taxa.id"))
    taxon_text: Mapped[str | None] = mapped_column(Text)  # "unidentified", until resolved
    term: Mapped[str] = mapped_column(String(3))
    unit: Mapped[str] = mapped_column(String(3))
    quantity: Mapped[Decimal] = mapped_column(Numeric)
    count: Mapped[int | None] = mapped_column(Integer)
    value: Mapped[Decimal | None] = mapped_column(Numeric)
    currency: Mapped[str | None] = mapped_column(String(3))
    source: Mapped[str | None] = mapped_column(String(1))


class SeizureVersion(Base):
    """Every version of a seizure as it was after each change (device edits and managers')."""

    __tablename__ = "seizure_versions"

    seizure_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("seizures.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    area_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"))
    data: Mapped[dict] = mapped_column(JSONB)
    edit_id: Mapped[uuid.UUID | None] = mapped_column()  # the device's edit record, if any
    device_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("devices.id"))
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    changed_at: Mapped[datetime] = created_at_column()


class AreaCitesParty(Base):
    """The CITES Party (country) an area reports for, and the agency that prepares its report."""

    __tablename__ = "area_cites_party"
    __table_args__ = (CheckConstraint("country ~ '^[A-Z]{2}$'", name="country_code"),)

    area_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("areas.id", ondelete="CASCADE"), primary_key=True
    )
    country: Mapped[str] = mapped_column(String(2), index=True)
    agency: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = created_at_column()
