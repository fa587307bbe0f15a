"""Tables of enrolled devices and the one-time codes that enrol them."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import DateTime, ForeignKey, LargeBinary, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.core.db import Base, created_at_column, new_id, utcnow

DEFAULT_TOKEN_TTL = timedelta(days=30)  # DEVICE_TOKEN_TTL_DAYS; enrolment sets it from config


def default_token_expiry() -> datetime:
    return utcnow() + DEFAULT_TOKEN_TTL


class Device(Base):
    """A handheld enrolled to one area and one user. Only the SHA-256 of its token is stored.

    The token expires at `token_expires_at` and is renewed on sync; the one before the last
    renewal (`previous_token_…`) still works until the device is seen with the new one."""

    __tablename__ = "devices"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    area_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("areas.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(Text)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    token_expires_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=default_token_expiry
    )
    previous_token_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32), unique=True)
    previous_token_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    enrolled_at: Mapped[datetime] = created_at_column()
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    app_version: Mapped[str | None] = mapped_column(Text)
    platform: Mapped[str | None] = mapped_column(Text)


class EnrolmentCode(Base):
    """A one-time code a manager hands to a ranger (typed or scanned as a QR code)."""

    __tablename__ = "enrolment_codes"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    area_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("areas.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    code_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at_column()
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    device_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("devices.id"))
