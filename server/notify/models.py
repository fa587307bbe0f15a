"""The notification outbox: one row per message to one target, kept with its delivery history."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.core.db import Base, created_at_column, new_id, one_of

CHANNELS = ("email", "sms", "webhook")
STATES = ("pending", "sending", "sent", "failed")


class Notification(Base):
    """A message to a manager. `pending` → `sending` (claimed by one worker until `lease_until`)
    → `sent`, or back to `pending` for a retry, or `failed` with the reason once given up."""

    __tablename__ = "notifications"
    __table_args__ = (
        one_of("channel", CHANNELS),
        one_of("state", STATES),
        # One message per alert, purpose and target, however often the alert is looked at.
        Index(
            "ix_notifications_alert_id_purpose_channel_target",
            "alert_id",
            "purpose",
            "channel",
            "target",
            unique=True,
        ),
        Index("ix_notifications_state_lease_until", "state", "lease_until"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    area_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"))
    alert_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("safety_alerts.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(16), default="raised")  # raised, escalated
    channel: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()
