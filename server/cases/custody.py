"""Evidence items and their custody: numbering an item (its first custody entry, the intake),
handovers between two accounts (recorded by the receiver, acknowledged by the giver, and only
then in the log), transfers to and from outside holders (a lab, a court), corrections.

The log is append-only and chained: each entry's hash covers its body and the previous entry's
hash, and each entry is recorded in the audit log with that hash (the entry keeps the audit
entry's id). Gaps, changed seals and time running backwards are flagged, never hidden."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from server.accounts.models import User
from server.areas.service import area_id_of
from server.cases.chain import GENESIS, Flag, custody_body, custody_flags, custody_hash, holder_of
from server.cases.models import CustodyEntry, EvidenceItem, Handover
from server.core import audit
from server.core.db import utcnow
from server.core.errors import Conflict, Forbidden, Invalid
from server.core.policy import Action, Actor, authorize, load_in_area
from server.evidence.storage import FileStore
from server.reports.models import Attachment, Report
from server.seizures.models import Seizure


@dataclass
class ItemView:
    item: EvidenceItem
    entries: list[dict] = field(default_factory=list)  # bodies, with seq, hash, prev_hash
    holder: str | None = None
    flags: list[Flag] = field(default_factory=list)
    pending: list[Handover] = field(default_factory=list)


def stored_file_flag(session: Session, store: FileStore, item: EvidenceItem) -> Flag | None:
    """For a digital item: a flag if the stored file no longer has the SHA-256 it arrived with."""
    if item.attachment_id is None:
        return None
    attachment = session.get_one(Attachment, item.attachment_id)
    path = store.blob(attachment.sha256)
    if not path.exists():
        return Flag(0, "file", f"the stored file {attachment.sha256} is missing")
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1024 * 1024):
            digest.update(chunk)
    if digest.hexdigest() != attachment.sha256:
        return Flag(
            0, "file", f"the stored file's SHA-256 is {digest.hexdigest()}, not {attachment.sha256}"
        )
    return None


# --- items ---------------------------------------------------------------------------------------


def create_item(
    session: Session,
    actor: Actor,
    area: str | uuid.UUID,
    *,
    kind: str,
    description: str,
    seizure_id: uuid.UUID | None = None,
    report_id: uuid.UUID | None = None,
    attachment_id: uuid.UUID | None = None,
    seal_number: str | None = None,
    place: str | None = None,
    at: datetime | None = None,
    parent: EvidenceItem | None = None,
    analysis: str | None = None,
) -> EvidenceItem:
    """Number an item and record its intake: the actor holds it from now (or from `at`)."""
    area_id = area_id_of(session, actor, area)
    authorize(actor, Action.CUSTODY_RECORD, area_id, "area")
    user = _user(session, actor)
    if attachment_id is not None:
        attachment = session.get(Attachment, attachment_id)
        if attachment is None or attachment.area_id != area_id:
            raise Invalid("no such attachment in this park", errors={"attachment_id": ["unknown"]})
        if attachment.state != "stored":
            raise Conflict(f"the file has not arrived yet (it is {attachment.state})")
        report_id = report_id or attachment.report_id
        if kind != "digital":
            raise Invalid("only a digital item is a file", errors={"kind": ["digital"]})
    elif kind == "digital":
        raise Invalid("a digital item names its attachment", errors={"attachment_id": ["missing"]})
    _same_area(session, Seizure, seizure_id, area_id, "seizure_id")
    _same_area(session, Report, report_id, area_id, "report_id")
    if seizure_id is None and report_id is None:
        raise Invalid(
            "an item belongs to a seizure or a report", errors={"seizure_id": ["missing"]}
        )
    item = EvidenceItem(
        id=uuid.uuid4(),
        area_id=area_id,
        number=next_number(session, area_id, EvidenceItem, "E"),
        kind=kind,
        description=description,
        seizure_id=seizure_id,
        report_id=report_id,
        attachment_id=attachment_id,
        parent_id=parent.id if parent else None,
        analysis=analysis,
        created_by=user.id,
    )
    session.add(item)
    session.flush()
    audit.record(
        session,
        actor,
        "evidence.create",
        "evidence_item",
        item.id,
        area_id=area_id,
        number=item.number,
        kind=kind,
    )
    _append(
        session,
        actor,
        item,
        kind="intake",
        at=at or utcnow(),
        giver=None,
        receiver={"user": user.username},
        to_user=user,
        recorded_by=user,
        details={"place": place, "seal_number": seal_number, "purpose": "seized as evidence"},
    )
    return item


def take_sample(
    session: Session,
    actor: Actor,
    item_id: uuid.UUID,
    *,
    analysis: str,
    description: str,
    seal_number: str | None = None,
    place: str | None = None,
    at: datetime | None = None,
) -> EvidenceItem:
    """A sample (DNA, wood, isotopes…) taken from an item: an item of its own, with its own
    custody from the one who took it."""
    parent = load_in_area(session, actor, Action.CUSTODY_RECORD, EvidenceItem, item_id, "item")
    return create_item(
        session,
        actor,
        parent.area_id,
        kind="sample",
        description=description,
        seizure_id=parent.seizure_id,
        report_id=parent.report_id,
        seal_number=seal_number,
        place=place,
        at=at,
        parent=parent,
        analysis=analysis,
    )


def item_view(session: Session, actor: Actor, item_id: uuid.UUID) -> ItemView:
    item = load_in_area(session, actor, Action.CUSTODY_VIEW, EvidenceItem, item_id, "item")
    return describe(session, item)


def describe(session: Session, item: EvidenceItem) -> ItemView:
    rows = session.scalars(
        select(CustodyEntry)
        .where(CustodyEntry.area_id == item.area_id, CustodyEntry.item_id == item.id)
        .order_by(CustodyEntry.seq)
    ).all()
    entries = [entry_dict(row) for row in rows]
    bodies = [e["body"] for e in entries]
    holder = _holder_after(bodies)
    pending = session.scalars(
        select(Handover).where(
            Handover.area_id == item.area_id,
            Handover.item_id == item.id,
            Handover.state == "pending",
        )
    ).all()
    return ItemView(item, entries, holder, custody_flags(bodies), list(pending))


def entry_dict(row: CustodyEntry) -> dict[str, Any]:
    return {
        "seq": row.seq,
        "body_text": row.body,
        "body": _loads(row.body),
        "prev_hash": row.prev_hash.hex(),
        "hash": row.hash.hex(),
        "audit_id": row.audit_id,
    }


def list_items(
    session: Session, actor: Actor, area: str, seizure_id: uuid.UUID | None = None
) -> list[EvidenceItem]:
    area_id = area_id_of(session, actor, area)
    authorize(actor, Action.CUSTODY_VIEW, area_id, "area")
    query = select(EvidenceItem).where(EvidenceItem.area_id == area_id)
    if seizure_id is not None:
        query = query.where(EvidenceItem.seizure_id == seizure_id)
    return list(session.scalars(query.order_by(EvidenceItem.number)))


# --- handovers and outside holders ---------------------------------------------------------------


def propose_handover(
    session: Session, actor: Actor, item_id: uuid.UUID, details: dict[str, Any]
) -> Handover:
    """The receiver records that they took the item from its holder; the log has it once the
    giver acknowledges."""
    item = load_in_area(session, actor, Action.CUSTODY_RECORD, EvidenceItem, item_id, "item")
    receiver = _user(session, actor)
    holder = _holder(session, item)
    if not holder or "user" not in holder:
        raise Conflict("the item is not held by an account: record its return from outside instead")
    giver = session.scalars(select(User).where(User.username == holder["user"])).one()
    if giver.id == receiver.id:
        raise Conflict("you already hold this item")
    handover = Handover(
        area_id=item.area_id,
        item_id=item.id,
        from_user_id=giver.id,
        to_user_id=receiver.id,
        details=_jsonable(details),
    )
    session.add(handover)
    session.flush()
    return handover


def acknowledge_handover(session: Session, actor: Actor, handover_id: uuid.UUID) -> CustodyEntry:
    """The giver confirms the handover: it enters the log with both accounts named."""
    handover = load_in_area(
        session, actor, Action.CUSTODY_RECORD, Handover, handover_id, "handover", lock=True
    )
    giver = _user(session, actor)
    if handover.from_user_id != giver.id:
        raise Forbidden("only the one handing the item over acknowledges the handover")
    if handover.state != "pending":
        raise Conflict(f"this handover is {handover.state}")
    item = session.get_one(EvidenceItem, (handover.area_id, handover.item_id))
    receiver = session.get_one(User, handover.to_user_id)
    if _holder(session, item) != {"user": giver.username}:
        raise Conflict("the item has changed hands since this handover was recorded")
    details = dict(handover.details)
    at = datetime.fromisoformat(details.pop("at")) if details.get("at") else utcnow()
    handover.state = "acknowledged"
    return _append(
        session,
        actor,
        item,
        kind="transfer",
        at=at,
        giver={"user": giver.username},
        receiver={"user": receiver.username},
        from_user=giver,
        to_user=receiver,
        recorded_by=receiver,
        acknowledged_by=giver,
        details=details,
    )


def send_outside(
    session: Session,
    actor: Actor,
    item_id: uuid.UUID,
    to: str,
    reference: str,
    details: dict[str, Any],
) -> CustodyEntry:
    """The holder hands the item to someone without an account (a lab, a court's registry):
    their reference (a waybill, a lab intake number) stands for their signature."""
    item = load_in_area(session, actor, Action.CUSTODY_RECORD, EvidenceItem, item_id, "item")
    giver = _user(session, actor)
    if _holder(session, item) != {"user": giver.username}:
        raise Conflict("only the one who holds the item hands it over")
    return _append(
        session,
        actor,
        item,
        kind="external_out",
        at=_at(details),
        giver={"user": giver.username},
        receiver={"external": to},
        from_user=giver,
        recorded_by=giver,
        details=details | {"reference": reference},
    )


def receive_from_outside(
    session: Session,
    actor: Actor,
    item_id: uuid.UUID,
    source: str,
    reference: str,
    details: dict[str, Any],
) -> CustodyEntry:
    item = load_in_area(session, actor, Action.CUSTODY_RECORD, EvidenceItem, item_id, "item")
    receiver = _user(session, actor)
    return _append(
        session,
        actor,
        item,
        kind="external_in",
        at=_at(details),
        giver={"external": source},
        receiver={"user": receiver.username},
        to_user=receiver,
        recorded_by=receiver,
        details=details | {"reference": reference},
    )


def correct(
    session: Session, actor: Actor, item_id: uuid.UUID, corrects: int, note: str
) -> CustodyEntry:
    """An entry that says what was wrong in an earlier one (which stays as it was)."""
    item = load_in_area(session, actor, Action.CUSTODY_RECORD, EvidenceItem, item_id, "item")
    last = _last(session, item)
    if last is None or not 1 <= corrects <= last.seq:
        raise Invalid(f"no entry {corrects} to correct", errors={"corrects": ["unknown"]})
    user = _user(session, actor)
    holder = _holder(session, item)
    return _append(
        session,
        actor,
        item,
        kind="correction",
        at=utcnow(),
        giver=holder,
        receiver=holder,
        recorded_by=user,
        details={"corrects": corrects, "note": note},
    )


# --- the chain -----------------------------------------------------------------------------------


def _append(
    session: Session,
    actor: Actor,
    item: EvidenceItem,
    *,
    kind: str,
    at: datetime,
    giver: dict | None,
    receiver: dict | None,
    recorded_by: User,
    from_user: User | None = None,
    to_user: User | None = None,
    acknowledged_by: User | None = None,
    details: dict[str, Any],
) -> CustodyEntry:
    # One writer per item at a time: the row lock orders appends, so the chain cannot fork.
    session.execute(
        select(EvidenceItem.id)
        .where(EvidenceItem.area_id == item.area_id, EvidenceItem.id == item.id)
        .with_for_update()
    )
    last = _last(session, item)
    seq = last.seq + 1 if last else 1
    prev = last.hash if last else GENESIS
    body_fields = {
        "item": item.number,
        "item_id": str(item.id),
        "seq": seq,
        "kind": kind,
        "at": at.isoformat(),
        "from": giver,
        "to": receiver,
        "place": details.get("place"),
        "purpose": details.get("purpose"),
        "condition": details.get("condition"),
        "seal_number": details.get("seal_number"),
        "reference": details.get("reference"),
        "corrects": details.get("corrects"),
        "note": details.get("note"),
        "recorded_by": recorded_by.username,
        "acknowledged_by": acknowledged_by.username if acknowledged_by else None,
        "recorded_at": utcnow().isoformat(),
    }
    body = custody_body(body_fields)
    digest = custody_hash(prev, body)
    audit_id = audit.record(
        session,
        actor,
        f"custody.{kind}",
        "evidence_item",
        item.id,
        area_id=item.area_id,
        seq=seq,
        hash=digest.hex(),
    )
    entry = CustodyEntry(
        area_id=item.area_id,
        item_id=item.id,
        seq=seq,
        kind=kind,
        at=at,
        from_user_id=from_user.id if from_user else None,
        to_user_id=to_user.id if to_user else None,
        recorded_by=recorded_by.id,
        acknowledged_by=acknowledged_by.id if acknowledged_by else None,
        body=body,
        prev_hash=prev,
        hash=digest,
        audit_id=audit_id,
    )
    session.add(entry)
    session.flush()
    return entry


def _last(session: Session, item: EvidenceItem) -> CustodyEntry | None:
    return session.scalar(
        select(CustodyEntry)
        .where(CustodyEntry.area_id == item.area_id, CustodyEntry.item_id == item.id)
        .order_by(CustodyEntry.seq.desc())
        .limit(1)
    )


def _holder(session: Session, item: EvidenceItem) -> dict | None:
    """Who holds the item by its log: the receiver of its last entry that is not a correction."""
    bodies = session.scalars(
        select(CustodyEntry.body)
        .where(
            CustodyEntry.area_id == item.area_id,
            CustodyEntry.item_id == item.id,
            CustodyEntry.kind != "correction",
        )
        .order_by(CustodyEntry.seq.desc())
        .limit(1)
    ).all()
    return _loads(bodies[0])["to"] if bodies else None


def _holder_after(bodies: list[dict]) -> str | None:
    holders = [holder_of(b["to"]) for b in bodies if b["kind"] != "correction"]
    return holders[-1] if holders else None


def next_number(session: Session, area_id: uuid.UUID, model: Any, letter: str) -> str:
    """`<PARK>-<letter>-<year>-0001` (E for evidence, C for cases): one sequence per park, letter
    and year, without duplicates between concurrent writers (an advisory lock per sequence)."""
    year = utcnow().year
    session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
        {"key": f"rs-number:{area_id}:{letter}"},
    )
    slug = session.scalar(text("SELECT slug FROM areas WHERE id = :id"), {"id": area_id})
    prefix = f"{slug.upper()}-{letter}-{year}-"
    count = session.scalar(
        select(func.count())
        .select_from(model)
        .where(model.area_id == area_id, model.number.startswith(prefix))
    )
    return f"{prefix}{(count or 0) + 1:04d}"


def _user(session: Session, actor: Actor) -> User:
    """The account acting (a device acts for its user). Custody needs a person."""
    user = session.get(User, actor.user_id) if actor.user_id else None
    if user is None:
        raise Forbidden("custody is recorded by a person's account")
    return user


def _same_area(session: Session, model, row_id, area_id: uuid.UUID, name: str) -> None:
    if row_id is None:
        return
    row = session.get(model, row_id)
    if row is None or row.area_id != area_id:
        raise Invalid(f"no such {name[:-3]} in this park", errors={name: ["unknown"]})


def _at(details: dict[str, Any]) -> datetime:
    at = details.get("at")
    return at if isinstance(at, datetime) else datetime.fromisoformat(at) if at else utcnow()


def _jsonable(details: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in details.items()}


def _loads(body: str) -> dict:
    return json.loads(body)
