"""What managers do with sync's leftovers: list, fix and re-admit quarantined records, dismiss
them, and list and resolve conflicts."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.models import User
from server.core.db import utcnow
from server.core.errors import Conflict
from server.core.policy import Action, Actor, authorize, load_in_area
from server.devices.models import Device
from server.devices.service import device_actor
from server.sync import push as push_service
from server.sync.common import PushContext, Rejection
from server.sync.models import QuarantinedRecord, SyncConflict, SyncSession
from sync.protocol import REJECTED


def quarantine_revoked(session: Session, device_id: str, records: list[Any]) -> int:
    """A revoked device's push is refused, and everything in it kept for review."""
    device = session.get(Device, uuid.UUID(device_id))
    rejection = Rejection("device-revoked", "", "sent by a revoked device")
    for raw in records:
        record_id, kind = push_service.identity(raw)
        push_service.quarantine(
            session, device.area_id, device.id, None, kind, record_id, raw, rejection
        )
    return len(records)


def list_quarantine(
    session: Session, actor: Actor, area_id: uuid.UUID, state: str
) -> list[QuarantinedRecord]:
    authorize(actor, Action.SYNC_REVIEW, area_id, "area")
    return list(
        session.scalars(
            select(QuarantinedRecord)
            .where(QuarantinedRecord.area_id == area_id, QuarantinedRecord.state == state)
            .order_by(QuarantinedRecord.received_at)
        )
    )


def _open_entry(session: Session, actor: Actor, entry_id: uuid.UUID) -> QuarantinedRecord:
    entry = load_in_area(
        session,
        actor,
        Action.SYNC_REVIEW,
        QuarantinedRecord,
        entry_id,
        "quarantined record",
        lock=True,
    )
    if entry.state != "open":
        raise Conflict(f"this record is already {entry.state}")
    return entry


def readmit(
    session: Session, actor: Actor, entry_id: uuid.UUID, record: dict | None = None
) -> tuple[QuarantinedRecord, push_service.Verdict]:
    """Run the record (as sent, or as the manager fixed it) through the push again, on behalf of
    the device that sent it and with that push's clock correction."""
    entry = _open_entry(session, actor, entry_id)
    if entry.device_id is None:
        raise Conflict("this record came from no known device and cannot be re-admitted")
    device = session.get(Device, entry.device_id)
    original = session.get(SyncSession, entry.sync_id) if entry.sync_id else None
    now = utcnow()
    device_time = original.device_time if original else now
    received_at = original.received_at if original else now
    sender = device_actor(session, device, session.get(User, device.user_id))
    ctx = PushContext(
        session,
        sender,
        device,
        entry.sync_id or uuid.uuid4(),
        device_time,
        received_at,
        bool(original and original.clock_suspect),
    )
    raw = record if record is not None else entry.raw
    verdict = push_service.apply_one(ctx, raw)
    if verdict.verdict == REJECTED:
        entry.code, entry.pointer, entry.detail = verdict.code, verdict.pointer, verdict.detail
        if record is not None:
            entry.raw = record
    else:
        entry.state, entry.resolved_by, entry.resolved_at = "readmitted", actor.user_id, now
        entry.resolution = {"verdict": verdict.verdict, "fixed": record is not None}
    session.flush()
    return entry, verdict


def dismiss(session: Session, actor: Actor, entry_id: uuid.UUID, reason: str) -> QuarantinedRecord:
    entry = _open_entry(session, actor, entry_id)
    entry.state, entry.resolved_by, entry.resolved_at = "dismissed", actor.user_id, utcnow()
    entry.resolution = {"reason": reason}
    session.flush()
    return entry


def list_conflicts(
    session: Session, actor: Actor, area_id: uuid.UUID, state: str
) -> list[SyncConflict]:
    authorize(actor, Action.SYNC_REVIEW, area_id, "area")
    return list(
        session.scalars(
            select(SyncConflict)
            .where(SyncConflict.area_id == area_id, SyncConflict.state == state)
            .order_by(SyncConflict.received_at)
        )
    )


def resolve_conflict(session: Session, actor: Actor, conflict_id: uuid.UUID) -> SyncConflict:
    """The manager has reconciled it (by editing the record if needed): close the flag."""
    conflict = load_in_area(
        session, actor, Action.SYNC_REVIEW, SyncConflict, conflict_id, "conflict", lock=True
    )
    if conflict.state != "open":
        raise Conflict("this conflict is already resolved")
    conflict.state, conflict.resolved_by, conflict.resolved_at = "resolved", actor.user_id, utcnow()
    session.flush()
    return conflict
