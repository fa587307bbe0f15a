"""The append-only, hash-chained audit log: who did what, to which object, in which area.

The database does the chaining (a BEFORE INSERT trigger, see the first migration): each entry's
hash covers its content and the previous entry's hash, entries are numbered under a row lock on the
chain head so concurrent writers cannot fork the chain, and UPDATE, DELETE and TRUNCATE are refused.
`verify_chain` recomputes every link, so tampering by anyone who bypasses the triggers shows.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, LargeBinary, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, Session, mapped_column

from server.core.db import Base, created_at_column
from server.core.policy import Actor


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = created_at_column()
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[uuid.UUID | None] = mapped_column()
    area_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    action: Mapped[str] = mapped_column(Text)
    object_type: Mapped[str] = mapped_column(Text)
    object_id: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict] = mapped_column(JSONB, default=dict)
    prev_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


def record(
    session: Session,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: object = None,
    *,
    area_id: uuid.UUID | None = None,
    **details: Any,
) -> int:
    """Append one entry in the caller's transaction: it commits or rolls back with the change.
    Answers the entry's id (its place in the chain)."""
    return session.execute(
        text(
            "INSERT INTO audit_log (actor_kind, actor_id, area_id, action, object_type,"
            " object_id, details)"
            " VALUES (:kind, :actor, :area, :action, :otype, :oid, CAST(:details AS jsonb))"
            " RETURNING id"
        ),
        {
            "kind": actor.kind,
            "actor": actor.id,
            "area": area_id,
            "action": action,
            "otype": object_type,
            "oid": None if object_id is None else str(object_id),
            "details": _json(details),
        },
    ).scalar_one()


def _json(details: dict[str, Any]) -> str:
    return json.dumps(details, default=str, sort_keys=True)


@dataclass(frozen=True)
class ChainCheck:
    entries: int
    first_broken_id: int | None

    @property
    def intact(self) -> bool:
        return self.first_broken_id is None


def verify_chain(session: Session) -> ChainCheck:
    row = session.execute(
        text(
            """
            WITH links AS (
                SELECT id, hash, prev_hash,
                       rs_audit_digest(prev_hash, id, at, actor_kind, actor_id, area_id, action,
                                       object_type, object_id, details) AS expected,
                       lag(hash, 1, '\\x'::bytea) OVER (ORDER BY id) AS previous
                FROM audit_log
            )
            SELECT count(*) AS entries,
                   min(id) FILTER (WHERE hash <> expected OR prev_hash <> previous) AS broken
            FROM links
            """
        )
    ).one()
    return ChainCheck(entries=row.entries, first_broken_id=row.broken)
