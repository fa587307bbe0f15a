"""Tables of ranger safety: alerts (who they matched, who acknowledged), last known positions,
per-area thresholds, SOS calls, live events."""

from __future__ import annotations

import uuid
from datetime import datetime

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from server.core.db import Base, ChangeTracked, created_at_column, geometry_ok, new_id, one_of

SEVERITIES = ("info", "warning", "critical")
SOURCES = ("manager", "sos", "rule")
# What raised it: a manager, a ranger's SOS, or one of the automatic rules.
KINDS = ("manual", "sos", "overdue_patrol", "no_movement", "danger_zone", "hostile_incident")


class SafetyAlert(ChangeTracked, Base):
    __tablename__ = "safety_alerts"
    __table_args__ = (
        geometry_ok("geom"),
        one_of("severity", SEVERITIES),
        one_of("kind", KINDS),
        CheckConstraint("valid_until IS NULL OR valid_until > valid_from", name="valid_window"),
        CheckConstraint("radius_m IS NULL OR (radius_m > 0 AND geom IS NOT NULL)", name="radius"),
        Index("ix_safety_alerts_area_id_valid_from", "area_id", "valid_from"),
        # An automatic rule fires once per event: the event's key is unique in its area.
        Index(
            "ix_safety_alerts_area_id_dedupe_key",
            "area_id",
            "dedupe_key",
            unique=True,
            postgresql_where=text("dedupe_key IS NOT NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    area_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"))
    geom = mapped_column(Geometry("GEOMETRY", srid=4326, spatial_index=True))  # None: whole area
    radius_m: Mapped[float | None] = mapped_column(Float)  # set: within this distance of geom
    severity: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text)
    valid_from: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    valid_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Who should receive it: {"teams": [...], "zones": [...], "geofence": true}; none of these
    # means the whole area. Otherwise the team members, the devices last seen in the zones, and
    # the devices last seen inside the alert's geometry (always, when it has one).
    audience: Mapped[dict] = mapped_column(JSONB, default=dict)
    source: Mapped[str] = mapped_column(String(16), default="manager")  # manager, sos, rule
    kind: Mapped[str] = mapped_column(String(32), default="manual", server_default="manual")
    dedupe_key: Mapped[str | None] = mapped_column(Text)
    subject_id: Mapped[uuid.UUID | None] = mapped_column()  # the patrol, report or SOS behind it
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at_column()
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Bumped when devices join the audience (a ranger walks into the geofence): the row's new
    # change_xid makes every device's next pull look at the alert again.
    audience_version: Mapped[int] = mapped_column(BigInteger, default=1, server_default="1")


class AlertMatch(Base):
    """A device that entered an alert's audience by position (zone or geofence). Sticky: a
    ranger who walks out of the danger area keeps the warning."""

    __tablename__ = "alert_matches"

    alert_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("safety_alerts.id", ondelete="CASCADE"), primary_key=True
    )
    device_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    area_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"))
    matched_at: Mapped[datetime] = created_at_column()


class AlertAck(Base):
    """A device's acknowledgement that the alert reached its ranger."""

    __tablename__ = "alert_acks"

    alert_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("safety_alerts.id", ondelete="CASCADE"), primary_key=True
    )
    device_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True
    )
    area_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"))
    acknowledged_at_device: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledged_at: Mapped[datetime] = created_at_column()


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


HANDLING_STEPS = ("acknowledge", "assign", "note", "resolve")


class AlertHandlingStep(Base):
    """A duty officer's step in handling an SOS or a critical alert: acknowledged ("I'm handling
    it"), a responder assigned, a note, resolved. Append-only: the steps are the alert's story."""

    __tablename__ = "alert_handling_steps"
    __table_args__ = (
        one_of("step", HANDLING_STEPS),
        CheckConstraint("step <> 'assign' OR responder IS NOT NULL", name="assign_names_responder"),
        CheckConstraint("step <> 'note' OR note IS NOT NULL", name="note_has_text"),
        Index("ix_alert_handling_steps_alert_id_at", "alert_id", "at"),
    )

    area_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("areas.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    alert_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("safety_alerts.id", ondelete="CASCADE"))
    step: Mapped[str] = mapped_column(String(16))
    by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    responder: Mapped[str | None] = mapped_column(Text)  # who goes: a name, a team, a unit
    note: Mapped[str | None] = mapped_column(Text)
    # The clock, not the transaction's start: two steps of one transaction keep their order.
    at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("clock_timestamp()")
    )
