"""The history of mutable records (reports, patrols, legs): each version as it was after each
change, whoever made it (a device's edit through sync, a manager's triage)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, PrimaryKeyConstraint, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from server.core.db import Base, created_at_column


class RecordVersion(Base):
    """Every version of a mutable record (report, patrol, leg), as it was after each change."""

    __tablename__ = "record_versions"
    __table_args__ = (
        PrimaryKeyConstraint("kind", "record_id", "version", name="pk_record_versions"),
    )

    kind: Mapped[str] = mapped_column(String(16))
    record_id: Mapped[uuid.UUID] = mapped_column()
    version: Mapped[int] = mapped_column(BigInteger)
    area_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"))
    data: Mapped[dict] = mapped_column(JSONB)
    edit_id: Mapped[uuid.UUID | None] = mapped_column()
    device_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("devices.id"))
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    changed_at: Mapped[datetime] = created_at_column()
