"""Tables of the sync engine: sessions, the receipt ledger, quarantine, conflicts, device status
reports and tombstones."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from server.core.db import XID8, Base, created_at_column, new_id, one_of

QUARANTINE_STATES = ("open", "readmitted", "dismissed")
CONFLICT_STATES = ("open", "resolved")


class SyncSession(Base):
    """One push or pull by a device: when, its clock's skew, what it sent and what it got back."""

    __tablename__ = "sync_sessions"
    __table_args__ = (Index("ix_sync_sessions_device_id_received_at", "device_id", "received_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    area_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"))
    device_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("devices.id"))
    direction: Mapped[str] = mapped_column(String(8))  # push or pull
    protocol: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[datetime] = created_at_column()
    device_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    clock_skew_s: Mapped[float | None] = mapped_column(Float)  # server time − device time
    clock_suspect: Mapped[bool] = mapped_column(Boolean, default=False)
    records: Mapped[int] = mapped_column(Integer, default=0)
    verdicts: Mapped[dict] = mapped_column(JSONB, default=dict)


class SyncReceipt(Base):
    """The ledger of every record id ever accepted, with the hash of its content as first stored:
    the same id again is a duplicate (same hash) or a conflict (different hash)."""

    __tablename__ = "sync_receipts"
    __table_args__ = (PrimaryKeyConstraint("record_id", "kind", name="pk_sync_receipts"),)

    record_id: Mapped[uuid.UUID] = mapped_column()
    kind: Mapped[str] = mapped_column(String(16))
    area_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("areas.id", ondelete="CASCADE"), index=True
    )
    device_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("devices.id"))
    content_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    sync_id: Mapped[uuid.UUID | None] = mapped_column()
    received_at: Mapped[datetime] = created_at_column()


class QuarantinedRecord(Base):
    """A record that could not be stored as sent, kept raw with the reason, for a manager to
    fix and re-admit, or dismiss. Nothing a device sends is ever thrown away."""

    __tablename__ = "sync_quarantine"
    __table_args__ = (
        one_of("state", QUARANTINE_STATES),
        Index("ix_sync_quarantine_area_id_state", "area_id", "state"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    area_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"))
    device_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("devices.id"))
    sync_id: Mapped[uuid.UUID | None] = mapped_column()
    kind: Mapped[str | None] = mapped_column(String(32))
    record_id: Mapped[str | None] = mapped_column(Text)  # as sent: may not even be a UUID
    raw: Mapped[dict | list | str | int | float | bool | None] = mapped_column(JSONB)
    code: Mapped[str] = mapped_column(String(64))
    pointer: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = created_at_column()
    state: Mapped[str] = mapped_column(String(16), default="open")
    resolved_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolution: Mapped[dict | None] = mapped_column(JSONB)


class SyncConflict(Base):
    """A second version of a record that disagrees with the stored one: kept, never applied,
    flagged for a manager."""

    __tablename__ = "sync_conflicts"
    __table_args__ = (
        one_of("state", CONFLICT_STATES),
        Index("ix_sync_conflicts_area_id_state", "area_id", "state"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    area_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"))
    device_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("devices.id"))
    sync_id: Mapped[uuid.UUID | None] = mapped_column()
    kind: Mapped[str] = mapped_column(String(16))
    record_id: Mapped[uuid.UUID] = mapped_column(index=True)
    reason: Mapped[str] = mapped_column(String(32))  # content-differs, stale-base, points-differ
    base_version: Mapped[int | None] = mapped_column(BigInteger)
    current_version: Mapped[int | None] = mapped_column(BigInteger)
    content: Mapped[dict] = mapped_column(JSONB)
    received_at: Mapped[datetime] = created_at_column()
    state: Mapped[str] = mapped_column(String(16), default="open")
    resolved_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class DeviceStatus(Base):
    """What a device said about itself: battery, storage, what it still holds unsynced."""

    __tablename__ = "device_status"
    __table_args__ = (Index("ix_device_status_device_id_received_at", "device_id", "received_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)  # the device's UUID
    area_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"))
    device_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("devices.id"))
    reported_at_device: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # clock-corrected
    received_at: Mapped[datetime] = created_at_column()
    battery_pct: Mapped[float | None] = mapped_column(Float)
    app_version: Mapped[str | None] = mapped_column(Text)
    free_storage_bytes: Mapped[int | None] = mapped_column(BigInteger)
    pending: Mapped[dict] = mapped_column(JSONB, default=dict)
    oldest_pending_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Tombstone(Base):
    """A deleted object, kept so that a device's next pull learns of the deletion."""

    __tablename__ = "tombstones"
    __table_args__ = (Index("ix_tombstones_area_id_change_xid", "area_id", "change_xid"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    area_id: Mapped[uuid.UUID | None] = mapped_column()  # None: reference data of every area
    kind: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[uuid.UUID] = mapped_column()
    device_id: Mapped[uuid.UUID | None] = mapped_column()  # set: only that device cares
    change_xid = mapped_column(XID8(), server_default=text("pg_current_xact_id()"), nullable=False)
    deleted_at: Mapped[datetime] = created_at_column()
