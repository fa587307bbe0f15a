"""The push: a device's batch of records, each answered with its own verdict.

One bad record never sinks the batch, and records that cannot be stored are kept raw in
quarantine with the reason. The view commits before it answers, so a verdict the device reads is
a verdict the database holds.

The batch is applied set-based where it can be: every record's schema first, then the whole
ledger claimed in one statement (common.claim_all), then the records in a fixed order inside one
savepoint, without a savepoint each: a handler refuses a record (Rejection) before it writes
anything, so only a refusal by the database itself needs a savepoint to undo a record. When one
comes, the batch's savepoint is rolled back and the batch applied again the careful way, a
savepoint and a ledger claim per record, which finds the record at fault and answers the rest as
before. Seizures, seizure edits and a record sent twice in one push always take the careful way.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import select, type_coerce
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from schemas.json_body import first_flaw
from schemas.sync import RECORD_SCHEMAS, RecordIn
from server.core.db import utcnow
from server.core.errors import Forbidden
from server.core.policy import Action, Actor, authorize
from server.devices.models import Device
from server.sync.common import (
    PushContext,
    Rejection,
    Verdict,
    claim_all,
    content_hash,
    storable,
    unclaim,
    unstorable_text,
)
from server.sync.edits import store_edit
from server.sync.models import QuarantinedRecord, SyncSession
from server.sync.records import (
    store_attachment,
    store_device_status,
    store_leg,
    store_patrol,
    store_report,
)
from server.sync.seizures import store_seizure
from server.sync.track_ingest import queue_derived, store_chunk
from sync.protocol import PROTOCOL_VERSION, RECORD_KINDS, REJECTED

HANDLERS = {
    "patrol": store_patrol,
    "patrol_leg": store_leg,
    "track_chunk": store_chunk,
    "report": store_report,
    "seizure": store_seizure,
    "edit": store_edit,
    "attachment": store_attachment,
    "device_status": store_device_status,
}
RANK = {kind: i for i, kind in enumerate(RECORD_KINDS)}
# Kinds whose handlers refuse a record before writing any of it (seizures' service may not).
REFUSE_BEFORE_WRITING = {
    "patrol",
    "patrol_leg",
    "track_chunk",
    "report",
    "edit",
    "attachment",
    "device_status",
}
# Where a database constraint points in the record, when the last line of defence is reached.
CONSTRAINT_POINTERS = {"geom": "/data/geometry", "ends_after_start": "/data/ended_at"}


@dataclass(frozen=True)
class PushResult:
    sync_id: uuid.UUID
    server_time: datetime
    clock_skew_s: float
    clock_suspect: bool
    results: list[Verdict]
    protocol: int = PROTOCOL_VERSION

    @property
    def summary(self) -> dict[str, int]:
        return dict(Counter(v.verdict for v in self.results))


@dataclass(frozen=True)
class ClockReading:
    """The device's clock when it started sending and the server's when the headers arrived:
    their difference is the skew without the transfer time. Either may be missing (an older
    client, a call from outside HTTP): then the envelope's device_time against the time the
    push is applied, which counts the transfer."""

    sent_at: datetime | None = None
    arrived_at: datetime | None = None


def push(
    session: Session,
    actor: Actor,
    device_time: datetime,
    records: list[Any],
    clock_tolerance: timedelta,
    clock: ClockReading = ClockReading(),
) -> PushResult:
    if actor.kind != "device":
        raise Forbidden("only an enrolled device pushes records; sign in on a device")
    device = session.get(Device, actor.id)
    authorize(actor, Action.SYNC, device.area_id, "area")
    received_at = utcnow()
    if clock.sent_at is not None and clock.arrived_at is not None:
        skew = clock.arrived_at - clock.sent_at
    else:
        skew = received_at - device_time
    sync = SyncSession(
        area_id=device.area_id,
        device_id=device.id,
        direction="push",
        protocol=PROTOCOL_VERSION,
        received_at=received_at,
        device_time=device_time,
        clock_skew_s=skew.total_seconds(),
        clock_suspect=abs(skew) > clock_tolerance,
        records=len(records),
    )
    session.add(sync)
    session.flush()
    ctx = PushContext(
        session, actor, device, sync.id, device_time, received_at, sync.clock_suspect, skew
    )
    verdicts: dict[int, Verdict] = {}
    accepted = []
    for index, raw in enumerate(records):
        try:
            accepted.append((index, _envelope_of(raw), raw))
        except Rejection as rejection:
            verdicts[index] = _reject(ctx, raw, rejection)
    accepted.sort(key=lambda item: _apply_order(*item))
    loaded = []
    for index, record, raw in accepted:
        try:
            loaded.append((index, record, raw, _data_of(record)))
        except Rejection as rejection:
            verdicts[index] = _reject(ctx, raw, rejection)
    firsts = {}  # each (kind, id) once: a record sent twice is claimed by its first copy
    for _, record, _, _ in loaded:
        firsts.setdefault((record["kind"], record["id"]), content_hash(record["data"]))
    try:
        with ctx.session.begin_nested():
            claim_all(ctx, [(kind, rid, digest) for (kind, rid), digest in firsts.items()])
            kind = None
            for index, record, raw, data in loaded:
                if record["kind"] != kind:  # each kind's rows go in together, after the last's
                    ctx.session.flush()
                    kind = record["kind"]
                verdicts[index] = _apply(ctx, record, raw, data, batched=True)
            ctx.session.flush()
    except DBAPIError:  # the database refused a record: its claims undone, find it the careful way
        ctx.forget()
        for index, record, raw, data in loaded:
            verdicts[index] = _apply(ctx, record, raw, data)
    queue_derived(ctx)
    results = [verdicts[i] for i in range(len(records))]
    sync.verdicts = dict(Counter(v.verdict for v in results))
    return PushResult(sync.id, received_at, skew.total_seconds(), sync.clock_suspect, results)


def _apply_order(index: int, record: dict, raw: Any) -> tuple:
    """Kinds in a fixed order (patrols before their fixes and reports, reports before edits);
    fixes by patrol and sequence number, so that a patrol's chunks extend it in order; edits by
    target and in the order sent. The same order in every push: row locks cannot deadlock."""
    data = raw.get("data") if isinstance(raw.get("data"), dict) else {}
    if record["kind"] == "edit":
        return (RANK["edit"], str(data.get("target_id")), 0, index)
    if record["kind"] == "track_chunk":
        seq = data.get("seq") if type(data.get("seq")) is int else -1
        return (RANK["track_chunk"], str(data.get("patrol_id")), seq, index)
    return (RANK[record["kind"]], str(record["id"]), 0, index)


def _first(messages: Any) -> str:
    if isinstance(messages, dict):
        return _first(next(iter(messages.values())))
    if isinstance(messages, list):
        return _first(messages[0])
    return str(messages)


def _pointer(field: str, messages: Any) -> str:
    if isinstance(messages, dict):
        inner_field, inner = next(iter(messages.items()))
        return f"/{field}" + _pointer(str(inner_field), inner)
    return f"/{field}"


def _envelope_of(raw: Any) -> dict:
    if pointer := unstorable_text(raw):
        raise Rejection(
            "unstorable-text",
            pointer,
            "text with a NUL character or a lone surrogate cannot be stored; it is kept escaped "
            "in quarantine",
        )
    if flaw := first_flaw(raw):  # a number past a double's range: valid JSON, no value
        raise Rejection(flaw.code, flaw.pointer, f"{flaw.detail}; it is kept in quarantine")
    try:
        return RecordIn().load(raw)
    except ValidationError as error:
        field, messages = next(iter(error.normalized_messages().items()))
        raise Rejection("invalid-record", f"/{field}", _first(messages)) from None


def apply_one(ctx: PushContext, raw: Any) -> Verdict:
    """One record, outside a batch (a manager re-admitting it): rejected without quarantining."""
    try:
        record = _envelope_of(raw)
    except Rejection as rejection:
        return _verdict_of(raw, rejection)
    try:
        data = _data_of(record)
    except Rejection as rejection:
        return _verdict_of(raw, rejection)
    verdict = _apply(ctx, record, raw, data, keep_rejected=False)
    queue_derived(ctx)
    return verdict


def _data_of(record: dict) -> dict:
    try:
        return RECORD_SCHEMAS[record["kind"]]().load(record["data"])
    except ValidationError as error:
        field, messages = next(iter(error.normalized_messages().items()))
        pointer = "/data" + _pointer(field, messages)
        raise Rejection("invalid-field", pointer, _first(messages)) from None


def _apply(
    ctx: PushContext,
    record: dict,
    raw: dict,
    data: dict,
    keep_rejected: bool = True,
    batched: bool = False,
) -> Verdict:
    """One record. `batched`: inside the batch's savepoint, with the ledger claimed for the whole
    batch; a record claimed that way whose handler refuses before writing needs no savepoint of
    its own, and a refusal by the database is left to the batch (it is applied again)."""
    kind, record_id = record["kind"], record["id"]
    claimed = ctx.claimed.get((kind, record_id))
    bare = (
        batched
        and claimed is not None
        and kind in REFUSE_BEFORE_WRITING
        and not (kind == "edit" and data["target"] == "seizure")
    )
    digest = content_hash(record["data"])
    try:
        if bare:
            ctx.bare = True
            try:
                return HANDLERS[kind](ctx, record_id, data, digest, raw["data"])
            finally:
                ctx.bare = False
        try:
            with ctx.session.begin_nested():
                return HANDLERS[kind](ctx, record_id, data, digest, raw["data"])
        except DBAPIError as error:
            constraint = getattr(getattr(error.orig, "diag", None), "constraint_name", None) or ""
            pointer = next(
                (p for key, p in CONSTRAINT_POINTERS.items() if key in constraint), "/data"
            )
            detail = f"the database refused it ({constraint or type(error.orig).__name__})"
            raise Rejection("database-refused", pointer, detail) from None
    except Rejection as rejection:
        if claimed == "new":  # claimed with the batch, outside this record's savepoint
            unclaim(ctx, kind, record_id)
        return _reject(ctx, raw, rejection) if keep_rejected else _verdict_of(raw, rejection)


def identity(raw: Any) -> tuple[str | None, str | None]:
    """The record's id and kind as sent, when it has them at all."""
    if not isinstance(raw, dict):
        return None, None
    record_id = str(raw["id"]) if "id" in raw else None
    kind = raw.get("kind") if isinstance(raw.get("kind"), str) else None
    return record_id, kind


def _verdict_of(raw: Any, rejection: Rejection) -> Verdict:
    record_id, kind = identity(raw)
    return Verdict(
        record_id or "",
        kind,
        REJECTED,
        code=rejection.code,
        pointer=rejection.pointer,
        detail=rejection.detail,
    )


def _reject(ctx: PushContext, raw: Any, rejection: Rejection) -> Verdict:
    """Keep the raw record in quarantine (once, however often it is retried) and say why."""
    record_id, kind = identity(raw)
    quarantine(
        ctx.session, ctx.area_id, ctx.device.id, ctx.sync_id, kind, record_id, raw, rejection
    )
    return _verdict_of(raw, rejection)


def quarantine(
    session: Session,
    area_id: uuid.UUID,
    device_id: uuid.UUID | None,
    sync_id: uuid.UUID | None,
    kind: str | None,
    record_id: str | None,
    raw: Any,
    rejection: Rejection,
) -> None:
    raw = storable(raw)
    already = session.scalar(
        select(QuarantinedRecord.id).where(
            QuarantinedRecord.device_id == device_id,
            QuarantinedRecord.record_id == record_id,
            QuarantinedRecord.code == rejection.code,
            QuarantinedRecord.state == "open",
            QuarantinedRecord.raw == type_coerce(raw, JSONB),
        )
    )
    if already is None:
        session.add(
            QuarantinedRecord(
                area_id=area_id,
                device_id=device_id,
                sync_id=sync_id,
                kind=(kind or "")[:32] or None,
                record_id=record_id[:200] if record_id else None,
                raw=raw,
                code=rejection.code,
                pointer=rejection.pointer,
                detail=rejection.detail,
            )
        )
        session.flush()
