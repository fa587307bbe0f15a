"""Tables of analytics: coverage per patrol × grid cell × day, hours per zone, cleaned effort and
track quality per patrol, the area's grid setting, and patrol plans."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    ARRAY,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Text,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from server.core.db import Base, created_at_column, new_id

DEFAULT_CELL_M = 500
MIN_CELL_M, MAX_CELL_M = 50, 20_000


class CoverageSetting(Base):
    """The grid of an area: square cells of `cell_m` metres in EPSG:6933 (equal-area)."""

    __tablename__ = "coverage_settings"
    __table_args__ = (
        CheckConstraint(f"cell_m BETWEEN {MIN_CELL_M} AND {MAX_CELL_M}", name="cell_m_range"),
    )

    area_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("areas.id", ondelete="CASCADE"), primary_key=True
    )
    cell_m: Mapped[int] = mapped_column(Integer, default=DEFAULT_CELL_M)
    updated_at: Mapped[datetime] = created_at_column()


class CoverageVisit(Base):
    """One patrol's presence in one grid cell on one (local) day: its clean fixes there, and the
    distance and time of the steps that start there. Keyed by patrol, so keeping it current only
    ever touches the rows of the patrol whose fixes arrived (its chunks are serialised already)."""

    __tablename__ = "coverage_visits"
    __table_args__ = (
        PrimaryKeyConstraint("patrol_id", "i", "j", "day", name="pk_coverage_visits"),
        Index("ix_coverage_visits_area_id_day", "area_id", "day"),
    )

    patrol_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patrols.id", ondelete="CASCADE"))
    i: Mapped[int] = mapped_column(Integer)
    j: Mapped[int] = mapped_column(Integer)
    day: Mapped[date] = mapped_column(Date)
    area_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"))
    fixes: Mapped[int] = mapped_column(Integer)
    distance_m: Mapped[float] = mapped_column(Float)
    seconds: Mapped[float] = mapped_column(Float)
    moving_s: Mapped[float] = mapped_column(Float)


class ZoneVisit(Base):
    """One patrol's effort inside one zone on one (local) day: steps starting inside the zone."""

    __tablename__ = "zone_visits"
    __table_args__ = (
        PrimaryKeyConstraint("patrol_id", "zone_id", "day", name="pk_zone_visits"),
        Index("ix_zone_visits_area_id_day", "area_id", "day"),
    )

    patrol_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patrols.id", ondelete="CASCADE"))
    zone_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("zones.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    area_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"))
    fixes: Mapped[int] = mapped_column(Integer)
    distance_m: Mapped[float] = mapped_column(Float)
    seconds: Mapped[float] = mapped_column(Float)


class PatrolEffort(Base):
    """A patrol's effort from its cleaned track, and how much of the track was usable."""

    __tablename__ = "patrol_effort"

    patrol_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("patrols.id", ondelete="CASCADE"), primary_key=True
    )
    area_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("areas.id", ondelete="CASCADE"), index=True
    )
    fixes: Mapped[int] = mapped_column(Integer)
    poor_accuracy: Mapped[int] = mapped_column(Integer)  # flagged, excluded, kept
    impossible_speed: Mapped[int] = mapped_column(Integer)  # flagged, excluded, kept
    quality: Mapped[float] = mapped_column(Float)  # share of fixes kept, 0…1
    distance_m: Mapped[float] = mapped_column(Float)
    duration_s: Mapped[float] = mapped_column(Float)
    moving_s: Mapped[float] = mapped_column(Float)
    first_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    computed_at: Mapped[datetime] = created_at_column()


class PatrolPlan(Base):
    """What a manager asked for: hours and/or km in target zones (or the whole area) over days."""

    __tablename__ = "patrol_plans"
    __table_args__ = (
        CheckConstraint("ends_on >= starts_on", name="ends_after_start"),
        CheckConstraint("target_hours IS NOT NULL OR target_km IS NOT NULL", name="has_a_target"),
        CheckConstraint("target_hours IS NULL OR target_hours > 0", name="hours_positive"),
        CheckConstraint("target_km IS NULL OR target_km > 0", name="km_positive"),
        Index("ix_patrol_plans_area_id_starts_on", "area_id", "starts_on"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    area_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(Text)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    zone_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(Uuid), default=list)
    target_hours: Mapped[float | None] = mapped_column(Float)
    target_km: Mapped[float | None] = mapped_column(Float)
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at_column()
