"""Tables of patrols, legs, members and track points (the narrow, partitioned fix table)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from server.core.db import Base, ChangeTracked, created_at_column, geometry_ok, one_of

PATROL_TYPES = ("foot", "vehicle", "boat", "aerial")


class Patrol(ChangeTracked, Base):
    """A patrol as SMART models it. The id is the device's UUID; figures and line are derived."""

    __tablename__ = "patrols"
    __table_args__ = (
        one_of("patrol_type", PATROL_TYPES),
        geometry_ok("line"),
        CheckConstraint("ended_at IS NULL OR ended_at >= started_at", name="ends_after_start"),
        CheckConstraint(
            "planned_end IS NULL OR planned_start IS NULL OR planned_end >= planned_start",
            name="plan_ends_after_start",
        ),
        CheckConstraint("date_trunc('month', track_month) = track_month", name="track_month_first"),
        Index("ix_patrols_area_id_started_at", "area_id", "started_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    area_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"))
    device_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("devices.id"))
    patrol_type: Mapped[str] = mapped_column(Text)
    transport: Mapped[str | None] = mapped_column(Text)
    mandate: Mapped[str | None] = mapped_column(Text)
    team_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("teams.id"))
    leader_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    armed: Mapped[bool] = mapped_column(Boolean, default=False)
    objective: Mapped[str | None] = mapped_column(Text)
    planned_start: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    planned_end: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # clock-corrected
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    started_at_device: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # as sent
    clock_suspect: Mapped[bool] = mapped_column(Boolean, default=False)
    # The partition key of this patrol's fixes: fixed per patrol (its start month), so that a fix
    # re-sent with a wrong clock can never land in a second partition and escape the unique key.
    track_month: Mapped[date] = mapped_column(Date)
    line = mapped_column(Geometry("LINESTRING", srid=4326, spatial_index=True))
    distance_m: Mapped[float] = mapped_column(Float, default=0.0)
    duration_s: Mapped[float] = mapped_column(Float, default=0.0)
    moving_s: Mapped[float] = mapped_column(Float, default=0.0)
    point_count: Mapped[int] = mapped_column(Integer, default=0)
    max_seq: Mapped[int | None] = mapped_column(BigInteger)  # appending after it is incremental
    version: Mapped[int] = mapped_column(BigInteger, default=1)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = created_at_column()


class PatrolMember(Base):
    __tablename__ = "patrol_members"

    patrol_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("patrols.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)
    area_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"))


class PatrolLeg(Base):
    """A stretch of a patrol with one means of transport and one leader (SMART's leg)."""

    __tablename__ = "patrol_legs"
    __table_args__ = (
        one_of("patrol_type", PATROL_TYPES),
        CheckConstraint("ended_at IS NULL OR ended_at >= started_at", name="ends_after_start"),
        Index("ix_patrol_legs_patrol_id_leg_number", "patrol_id", "leg_number", unique=True),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    patrol_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patrols.id", ondelete="CASCADE"))
    area_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"))
    leg_number: Mapped[int] = mapped_column(Integer)
    patrol_type: Mapped[str] = mapped_column(Text)
    transport: Mapped[str | None] = mapped_column(Text)
    leader_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attributes: Mapped[dict] = mapped_column(JSONB, default=dict)
    version: Mapped[int] = mapped_column(BigInteger, default=1)
    created_at: Mapped[datetime] = created_at_column()


class TrackPoint(Base):
    """One GPS fix. Narrow on purpose: billions of these rows are the scale plan's main load.

    Range-partitioned by the patrol's `track_month`; unique on (patrol, device sequence number).
    No foreign keys: the bulk COPY path checks the patrol once per chunk, not per row.
    """

    __tablename__ = "track_points"
    __table_args__ = (
        PrimaryKeyConstraint("patrol_id", "seq", "track_month", name="pk_track_points"),
        geometry_ok("geom"),
        CheckConstraint("seq >= 0", name="seq_non_negative"),
        CheckConstraint("accuracy_m IS NULL OR accuracy_m >= 0", name="accuracy_non_negative"),
        # fixes in time order (logs are not always in it): lines, figures, the last fix
        Index("ix_track_points_patrol_time", "patrol_id", "recorded_at", "seq"),
        {"postgresql_partition_by": "RANGE (track_month)"},
    )

    patrol_id: Mapped[uuid.UUID] = mapped_column()
    seq: Mapped[int] = mapped_column(BigInteger)
    track_month: Mapped[date] = mapped_column(Date)
    area_id: Mapped[uuid.UUID] = mapped_column()
    leg_id: Mapped[uuid.UUID | None] = mapped_column()
    device_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # clock-corrected
    geom = mapped_column(Geometry("POINT", srid=4326, spatial_index=False), nullable=False)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    altitude_m: Mapped[float | None] = mapped_column(Float)
    speed_mps: Mapped[float | None] = mapped_column(Float)
    received_at: Mapped[datetime] = created_at_column()


class DerivedBacklog(Base):
    """Patrols whose derived figures (line, distance, coverage, effort) and movement rules wait
    for the worker: the push stores fixes and one row here, the worker derives after commit,
    batched across pushes. `since_at`/`since_seq`: the patrol's last fix in time before the
    first waiting chunk, when every waiting chunk extended the patrol after it (`extends`);
    otherwise the worker re-derives the patrol whole."""

    __tablename__ = "derived_backlog"
    __table_args__ = (PrimaryKeyConstraint("area_id", "patrol_id"),)

    area_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"))
    patrol_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patrols.id", ondelete="CASCADE"))
    extends: Mapped[bool] = mapped_column(Boolean)
    since_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    since_seq: Mapped[int | None] = mapped_column(BigInteger)
    queued_at: Mapped[datetime] = created_at_column()
