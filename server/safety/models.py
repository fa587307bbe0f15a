"""Tables of ranger safety: last known positions, per-area thresholds, SOS calls, live events."""

from __future__ import annotations

import uuid
from datetime import datetime

from geoalchemy2 import Geometry
from sqlalchemy import BigInteger, CheckConstraint, DateTime, Float, ForeignKey, Index, String, Text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from server.core.db import Base, created_at_column, geometry_ok, one_of

SOS_CHANNELS = ("http", "sms")


class DevicePosition(Base):
    """A device's last known position: its latest fix, report or SOS, whichever is newest."""

    __tablename__ = "device_positions"
    __table_args__ = (geometry_ok("geom"),)

    device_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True
    )
    area_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("areas.id", ondelete="CASCADE"), index=True
    )
    geom = mapped_column(Geometry("POINT", srid=4326, spatial_index=True), nullable=False)
    fixed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    patrol_id: Mapped[uuid.UUID | None] = mapped_column()
    updated_at: Mapped[datetime] = created_at_column()


class SafetySettings(Base):
    """Thresholds of the automatic rules and who managers are reached at, per area."""

    __tablename__ = "safety_settings"
    __table_args__ = (
        CheckConstraint(
            "overdue_grace_min >= 0 AND no_movement_min > 0 AND no_movement_radius_m > 0"
            " AND hostile_radius_km > 0 AND hostile_max_age_min > 0 AND nearby_radius_km > 0"
            " AND escalate_after_min > 0",
            name="positive",
        ),
    )

    area_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("areas.id", ondelete="CASCADE"), primary_key=True
    )
    overdue_grace_min: Mapped[int] = mapped_column(server_default="60")
    no_movement_min: Mapped[int] = mapped_column(server_default="45")
    no_movement_radius_m: Mapped[float] = mapped_column(Float, server_default="50")
    hostile_radius_km: Mapped[float] = mapped_column(Float, server_default="5")
    hostile_max_age_min: Mapped[int] = mapped_column(server_default="360")
    nearby_radius_km: Mapped[float] = mapped_column(Float, server_default="10")
    escalate_after_min: Mapped[int] = mapped_column(server_default="15")
    notify_emails: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    notify_sms: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    notify_webhooks: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    updated_at: Mapped[datetime] = created_at_column()


class SosCall(Base):
    """A ranger's SOS, over HTTP or as a signed text message. Its id is derived from the device
    and the device's SOS counter, so one SOS sent both ways is one call."""

    __tablename__ = "sos_calls"
    __table_args__ = (
        geometry_ok("geom"),
        one_of("channel", SOS_CHANNELS),
        Index("ix_sos_calls_device_id_counter", "device_id", "counter", unique=True),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    area_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("areas.id", ondelete="CASCADE"), index=True
    )
    device_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    counter: Mapped[int] = mapped_column(BigInteger)
    geom = mapped_column(Geometry("POINT", srid=4326, spatial_index=False), nullable=False)
    sent_at_device: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    text: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(8))
    sender: Mapped[str | None] = mapped_column(Text)  # the gateway's phone number, if any
    alert_id: Mapped[uuid.UUID | None] = mapped_column()
    received_at: Mapped[datetime] = created_at_column()


class SafetyEvent(Base):
    """What the live channel carries (alerts raised, acknowledged, escalated, cancelled): a table,
    so that every app process serves the same stream and a reconnecting client resumes by id."""

    __tablename__ = "safety_events"
    __table_args__ = (Index("ix_safety_events_area_id_id", "area_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    area_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    alert_id: Mapped[uuid.UUID | None] = mapped_column()
    payload: Mapped[dict] = mapped_column(JSONB)
    created_at: Mapped[datetime] = created_at_column()
