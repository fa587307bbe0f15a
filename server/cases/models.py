"""Tables of evidence for court: evidence items and their labels, the signed receipts of files,
the custody log (append-only, chained by hash), handovers awaiting the giver's acknowledgement,
cases with their links and (encrypted) suspects, and forensic lab results."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from server.core.db import Base, created_at_column, new_id, one_of

ITEM_KINDS = ("digital", "physical", "sample")
SAMPLE_ANALYSES = ("dna", "wood_anatomy", "isotopes", "morphology", "other")
CUSTODY_KINDS = ("intake", "transfer", "external_out", "external_in", "correction")
HANDOVER_STATES = ("pending", "acknowledged", "withdrawn")
CASE_STATUSES = ("open", "charged", "in_court", "closed")
CASE_OUTCOMES = ("convicted", "acquitted", "dismissed", "withdrawn", "fined")
LINK_KINDS = ("seizure", "report")


# Every table here is keyed with its area first (the distribution key on Citus), and refers to
# its neighbours by (area_id, id).
def _area() -> Mapped[uuid.UUID]:
    return mapped_column(ForeignKey("areas.id", ondelete="CASCADE"), primary_key=True)


def _item_key(table: str, column: str) -> ForeignKeyConstraint:
    return ForeignKeyConstraint(
        ["area_id", column],
        ["evidence_items.area_id", "evidence_items.id"],
        name=f"fk_{table}_{column}_evidence_items",
    )


def _case_key(table: str) -> ForeignKeyConstraint:
    return ForeignKeyConstraint(
        ["area_id", "case_id"],
        ["cases.area_id", "cases.id"],
        ondelete="CASCADE",
        name=f"fk_{table}_case_id_cases",
    )


class EvidenceItem(Base):
    """A photo, a tusk, a snare, a DNA swab: one numbered thing a court may be shown. A digital
    item is a stored attachment; a sample was taken from another item (`parent_id`)."""

    __tablename__ = "evidence_items"
    __table_args__ = (
        one_of("kind", ITEM_KINDS),
        one_of("analysis", SAMPLE_ANALYSES),
        CheckConstraint("kind <> 'digital' OR attachment_id IS NOT NULL", name="digital_has_file"),
        CheckConstraint("kind <> 'sample' OR parent_id IS NOT NULL", name="sample_has_parent"),
        CheckConstraint(
            "seizure_id IS NOT NULL OR report_id IS NOT NULL", name="linked_to_seizure_or_report"
        ),
        UniqueConstraint("area_id", "number"),
        _item_key("evidence_items", "parent_id"),
    )

    area_id: Mapped[uuid.UUID] = _area()
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    number: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(Text)
    seizure_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("seizures.id"), index=True)
    report_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("reports.id"), index=True)
    attachment_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("attachments.id"))
    parent_id: Mapped[uuid.UUID | None] = mapped_column()
    analysis: Mapped[str | None] = mapped_column(String(16))  # samples: what the lab is asked
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at_column()


class Receipt(Base):
    """The server's signed statement that it received a file with this hash from this device,
    captured then and there. Issued once; the signature is over `payload` exactly as stored."""

    __tablename__ = "evidence_receipts"

    area_id: Mapped[uuid.UUID] = _area()
    attachment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("attachments.id", ondelete="CASCADE"), primary_key=True
    )
    key_id: Mapped[str] = mapped_column(String(32))
    payload: Mapped[str] = mapped_column(Text)  # canonical JSON (sync.protocol.receipts)
    signature: Mapped[bytes] = mapped_column(LargeBinary(64))
    issued_at: Mapped[datetime] = created_at_column()


class CustodyEntry(Base):
    """One link of an item's custody: who had it, who has it now. `body` is the canonical JSON
    that `hash` covers (with the previous entry's hash); the columns beside it are for queries.
    Append-only (a trigger refuses UPDATE and DELETE); a mistake is corrected by a new entry."""

    __tablename__ = "custody_entries"
    __table_args__ = (
        one_of("kind", CUSTODY_KINDS),
        CheckConstraint("seq >= 1", name="seq_positive"),
        _item_key("custody_entries", "item_id"),
    )

    area_id: Mapped[uuid.UUID] = _area()
    item_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    from_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    to_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    recorded_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    acknowledged_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    audit_id: Mapped[int] = mapped_column(BigInteger)
    recorded_at: Mapped[datetime] = created_at_column()


class Handover(Base):
    """A transfer the receiver has recorded and the giver has yet to acknowledge: it enters the
    custody log, with both signatures, when the giver does."""

    __tablename__ = "custody_handovers"
    __table_args__ = (one_of("state", HANDOVER_STATES), _item_key("custody_handovers", "item_id"))

    area_id: Mapped[uuid.UUID] = _area()
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    item_id: Mapped[uuid.UUID] = mapped_column(index=True)
    from_user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    to_user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    details: Mapped[dict] = mapped_column(JSONB)  # at, place, purpose, condition, seal_number
    state: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime] = created_at_column()


class Case(Base):
    """A prosecution file: what it groups, the charges, court and hearings, and how it ended.
    Suspects are in their own (encrypted) table so that no query of a case can carry a name."""

    __tablename__ = "cases"
    __table_args__ = (
        one_of("status", CASE_STATUSES),
        one_of("outcome", CASE_OUTCOMES),
        CheckConstraint("status <> 'closed' OR outcome IS NOT NULL", name="closed_has_outcome"),
        UniqueConstraint("area_id", "number"),
    )

    area_id: Mapped[uuid.UUID] = _area()
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    number: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")
    court: Mapped[str | None] = mapped_column(Text)
    court_reference: Mapped[str | None] = mapped_column(Text)
    charges: Mapped[list] = mapped_column(JSONB, default=list)  # [{statute, description}]
    hearings: Mapped[list] = mapped_column(JSONB, default=list)  # [{at, purpose, result}]
    outcome: Mapped[str | None] = mapped_column(String(16))
    sentence: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    opened_at: Mapped[datetime] = created_at_column()
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CaseLink(Base):
    """A seizure or report a case groups; their evidence items are the case's."""

    __tablename__ = "case_links"
    __table_args__ = (one_of("kind", LINK_KINDS), _case_key("case_links"))

    area_id: Mapped[uuid.UUID] = _area()
    case_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    object_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)


class Suspect(Base):
    """A suspect's minimal personal data, encrypted at rest (Fernet, key from configuration):
    a database dump or a query by anyone without the key shows only ciphertext."""

    __tablename__ = "case_suspects"
    __table_args__ = (_case_key("case_suspects"),)

    area_id: Mapped[uuid.UUID] = _area()
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    case_id: Mapped[uuid.UUID] = mapped_column(index=True)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = created_at_column()


class LabResult(Base):
    """What a forensic lab found in a sample, and what it matched: another item (and so its
    seizure) or a seizure directly. Read from either side, so linked seizures see each other."""

    __tablename__ = "lab_results"
    __table_args__ = (
        _item_key("lab_results", "sample_id"),
        _item_key("lab_results", "matched_item_id"),
    )

    area_id: Mapped[uuid.UUID] = _area()
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    sample_id: Mapped[uuid.UUID] = mapped_column(index=True)
    lab: Mapped[str] = mapped_column(Text)
    lab_reference: Mapped[str] = mapped_column(Text)
    species_confirmed: Mapped[str | None] = mapped_column(Text)
    origin: Mapped[str | None] = mapped_column(Text)  # population or origin assigned
    summary: Mapped[str] = mapped_column(Text)
    matched_item_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    matched_seizure_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("seizures.id"), index=True
    )
    reported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = created_at_column()
