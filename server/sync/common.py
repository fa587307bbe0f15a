"""What the push handlers share: the push context, rejections, time checks, the receipt ledger."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from schemas.json_body import first_flaw
from server.core.policy import Actor
from server.devices.models import Device
from server.sync.models import SyncConflict, SyncReceipt

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
# A record may be stamped a little after the envelope's device_time (the clock ticks while the
# app builds the request), never much later: that would be a broken clock or a forged record.
AFTER_SEND_GRACE = timedelta(minutes=5)


class Rejection(Exception):
    """This record cannot be stored as sent: a stable code, a JSON pointer, a human detail."""

    def __init__(self, code: str, pointer: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.pointer = pointer
        self.detail = detail


@dataclass
class Verdict:
    id: str
    kind: str | None
    verdict: str
    code: str | None = None
    pointer: str | None = None
    detail: str | None = None
    version: int | None = None
    points: dict[str, int] | None = None


@dataclass
class PushContext:
    """One push being applied: who sent it and how far off their clock is."""

    session: Session
    actor: Actor
    device: Device
    sync_id: uuid.UUID
    device_time: datetime
    received_at: datetime
    clock_suspect: bool
    measured_skew: timedelta | None = None  # server minus device clock, transfer time left out
    usernames: dict[str, uuid.UUID] = field(default_factory=dict)  # filled on first use
    # Patrols given new fixes: (every chunk extended the patrol, its last fix before the first
    # chunk); their derived figures are left to the worker (track_ingest.queue_derived).
    derive_later: dict[uuid.UUID, tuple[bool, tuple[datetime, int] | None]] = field(
        default_factory=dict
    )
    # The ledger's answers for records claimed together before any was applied (claim_all):
    # (kind, id) -> "new", "duplicate", "conflict" or "id-taken"; taken by the record's handler.
    claimed: dict[tuple[str, uuid.UUID], str] = field(default_factory=dict)
    # True while a record is applied inside the batch's savepoint without one of its own: then
    # what one record looked up or stored (a category, a patrol locked, a report) holds for the
    # next, since a database refusal anywhere applies the batch again and `forget`s it all.
    bare: bool = False
    memo: dict[tuple, Any] = field(default_factory=dict)

    def remembered(self, key: tuple, look_up):
        """look_up(), or what it answered for an earlier record of this batch (bare only)."""
        if not self.bare:
            return look_up()
        if key not in self.memo:
            self.memo[key] = look_up()
        return self.memo[key]

    def remember(self, key: tuple, value: Any) -> None:
        if self.bare:
            self.memo[key] = value

    def forget(self) -> None:
        """The batch's savepoint was rolled back: nothing it did or learnt holds."""
        self.claimed.clear()
        self.derive_later.clear()
        self.memo.clear()

    @property
    def area_id(self) -> uuid.UUID:
        return self.device.area_id

    @property
    def skew(self) -> timedelta:
        """Server time minus device time: add it to a device timestamp to correct it."""
        if self.measured_skew is not None:
            return self.measured_skew
        return self.received_at - self.device_time

    def corrected(self, device_time: datetime) -> datetime:
        """The device's time on the server's clock: moved by the skew only when the clock is off
        beyond the tolerance (clock_suspect); a right clock's times are kept to the second, not
        given the noise of a measurement. The value as sent is always kept beside it."""
        return device_time + self.skew if self.clock_suspect else device_time

    def check_plan(self, value: datetime | None, pointer: str) -> None:
        """A planned time is a person's intention, stored as given: it may lie in the future
        (the overdue-patrol rule needs exactly that), but not before 2000."""
        if value is not None and value < EARLIEST:
            raise Rejection("time-out-of-range", pointer, f"{value.isoformat()} is before 2000")

    def check_satellite_time(self, value: datetime, pointer: str) -> None:
        """A GPS fix's time comes from the satellites, not from the device's clock: it is never
        corrected, and checked against the server's clock (a unit whose clock is lost writes
        dates like 1901 or 1999 from a week-number rollover; those are refused)."""
        if value < EARLIEST:
            raise Rejection("time-out-of-range", pointer, f"{value.isoformat()} is before 2000")
        if value > self.received_at + AFTER_SEND_GRACE:
            raise Rejection(
                "time-after-send",
                pointer,
                f"{value.isoformat()} is later than the server's clock when the push came "
                f"({self.received_at.isoformat()})",
            )

    def check_time(self, value: datetime | None, pointer: str) -> None:
        """A time the device stamped must be consistent with its own clock at send time; its
        corrected value must be a real date. A device whose clock reset to 1970 still syncs:
        the skew brings its times back to now."""
        if value is None:
            return
        try:
            corrected = self.corrected(value)
        except OverflowError:
            raise Rejection(
                "time-out-of-range", pointer, f"{value.isoformat()} cannot be corrected to a date"
            ) from None
        if corrected < EARLIEST:
            raise Rejection(
                "time-out-of-range", pointer, f"{value.isoformat()} is before 2000, even corrected"
            )
        if value > self.device_time + AFTER_SEND_GRACE:
            raise Rejection(
                "time-after-send",
                pointer,
                f"{value.isoformat()} is later than the device's own clock when it sent the push "
                f"({self.device_time.isoformat()})",
            )


def canonical(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def content_hash(data: Any) -> bytes:
    return hashlib.sha256(canonical(data)).digest()


CLAIM_ALL = text(
    """
    INSERT INTO sync_receipts (record_id, kind, area_id, device_id, content_hash, sync_id)
    SELECT c.record_id, c.kind, :area, :device, c.content_hash, :sync
    FROM unnest(CAST(:ids AS uuid[]), CAST(:kinds AS text[]), CAST(:hashes AS bytea[]))
         AS c(record_id, kind, content_hash)
    ORDER BY c.record_id, c.kind
    ON CONFLICT DO NOTHING
    RETURNING record_id, kind
    """
)
ALREADY = text(
    """
    SELECT r.record_id, r.kind, r.area_id, r.content_hash
    FROM sync_receipts r
    JOIN unnest(CAST(:ids AS uuid[]), CAST(:kinds AS text[])) AS c(record_id, kind)
      ON r.record_id = c.record_id AND r.kind = c.kind
    """
)


def claim_all(ctx: PushContext, records: list[tuple[str, uuid.UUID, bytes]]) -> None:
    """Claim (kind, id, digest) records in the ledger at once: one INSERT for them all, one
    SELECT for those already there. The same answers as `claim` record by record, and the same
    waiting: a record another push is storing waits for its commit (rows are taken in id order,
    so two pushes cannot deadlock here). A record claimed "new" whose handler then refuses it
    must be unclaimed (`unclaim`): it was claimed outside its savepoint."""
    if not records:
        return
    ids = [r[1] for r in records]
    kinds = [r[0] for r in records]
    inserted = ctx.session.execute(
        CLAIM_ALL,
        {
            "ids": ids,
            "kinds": kinds,
            "hashes": [r[2] for r in records],
            "area": ctx.area_id,
            "device": ctx.device.id,
            "sync": ctx.sync_id,
        },
    ).all()
    new = {(row.kind, row.record_id) for row in inserted}
    for kind, record_id, _ in records:
        if (kind, record_id) in new:
            ctx.claimed[(kind, record_id)] = "new"
    rest = [
        (kind, record_id, digest)
        for kind, record_id, digest in records
        if (kind, record_id) not in new
    ]
    if not rest:
        return
    found = {
        (row.kind, row.record_id): row
        for row in ctx.session.execute(
            ALREADY, {"ids": [r[1] for r in rest], "kinds": [r[0] for r in rest]}
        )
    }
    for kind, record_id, digest in rest:
        row = found[(kind, record_id)]
        if row.area_id != ctx.area_id:
            ctx.claimed[(kind, record_id)] = "id-taken"
        else:
            ctx.claimed[(kind, record_id)] = (
                "duplicate" if row.content_hash == digest else "conflict"
            )


def unclaim(ctx: PushContext, kind: str, record_id: uuid.UUID) -> None:
    """Take back a claim made by claim_all for a record that was then refused."""
    ctx.session.execute(
        text("DELETE FROM sync_receipts WHERE record_id = :id AND kind = :kind"),
        {"id": record_id, "kind": kind},
    )


ID_TAKEN = ("id-taken", "/id", "this id belongs to a record of another area")


def claim(ctx: PushContext, kind: str, record_id: uuid.UUID, digest: bytes) -> str:
    """Enter the record in the ledger: 'new', 'duplicate' (same content) or 'conflict'.

    INSERT … ON CONFLICT DO NOTHING makes concurrent pushes of one record wait for each other
    and agree: exactly one of them stores it. A record already claimed with others of its push
    (claim_all) takes that answer."""
    if (outcome := ctx.claimed.pop((kind, record_id), None)) is not None:
        if outcome == "id-taken":
            raise Rejection(*ID_TAKEN)
        return outcome
    inserted = ctx.session.execute(
        insert(SyncReceipt)
        .values(
            record_id=record_id,
            kind=kind,
            area_id=ctx.area_id,
            device_id=ctx.device.id,
            content_hash=digest,
            sync_id=ctx.sync_id,
        )
        .on_conflict_do_nothing()
        .returning(SyncReceipt.record_id)
    ).first()
    if inserted is not None:
        return "new"
    existing = ctx.session.execute(
        select(SyncReceipt.area_id, SyncReceipt.content_hash).where(
            SyncReceipt.record_id == record_id, SyncReceipt.kind == kind
        )
    ).one()
    if existing.area_id != ctx.area_id:
        raise Rejection(*ID_TAKEN)
    return "duplicate" if existing.content_hash == digest else "conflict"


def keep_conflict(
    ctx: PushContext,
    kind: str,
    record_id: uuid.UUID,
    reason: str,
    content: Any,
    base_version: int | None = None,
    current_version: int | None = None,
) -> None:
    ctx.session.add(
        SyncConflict(
            area_id=ctx.area_id,
            device_id=ctx.device.id,
            sync_id=ctx.sync_id,
            kind=kind,
            record_id=record_id,
            reason=reason,
            base_version=base_version,
            current_version=current_version,
            content=content,
        )
    )


def unstorable_text(value: Any) -> str | None:
    """The JSON pointer of the first string PostgreSQL cannot store (a NUL character, or a lone
    UTF-16 surrogate that is no character at all), or None."""
    # The common case at C speed: serialise, and look for trouble only if there is any.
    text = json.dumps(value, ensure_ascii=False)
    try:
        text.encode("utf-8")
        if "\\u0000" not in text:  # the encoder escapes control characters, even here
            return None
    except UnicodeEncodeError:
        pass
    return _unstorable_at(value, "")


def _unstorable_at(value: Any, pointer: str) -> str | None:
    if isinstance(value, str):
        if "\x00" in value:
            return pointer or "/"
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return pointer or "/"
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{pointer}/{str(key).replace('~', '~0').replace('/', '~1')}"
            if _unstorable_at(key, where):
                return where
            if found := _unstorable_at(item, where):
                return found
        return None
    if isinstance(value, list):
        for i, item in enumerate(value):
            if isinstance(item, str | dict | list) and (
                found := _unstorable_at(item, f"{pointer}/{i}")
            ):
                return found
    return None


# A quarantined record larger than this (as JSON) is kept as its first bytes, its size and its
# SHA-256: enough for a manager to see what it was and for the device's copy to be recognised,
# without a 16 MB record held whole for every retry of a misbehaving app.
MAX_QUARANTINED_BYTES = 64 * 1024


def storable(raw: Any) -> Any:
    """What quarantine keeps: the record itself, or — when it holds text PostgreSQL cannot store,
    or a number JSONB cannot hold (1e400 parses to infinity) — its JSON text, escaped, so that
    nothing is lost or altered; past MAX_QUARANTINED_BYTES, the head of that text, its size and
    its hash."""
    as_json = json.dumps(raw, ensure_ascii=True)
    if len(as_json) > MAX_QUARANTINED_BYTES:
        return {
            "truncated_json": as_json[:MAX_QUARANTINED_BYTES],
            "size_bytes": len(as_json),
            "sha256": hashlib.sha256(as_json.encode()).hexdigest(),
        }
    if unstorable_text(raw) is None and first_flaw(raw) is None:
        return raw
    return {"unstorable_json": as_json}
