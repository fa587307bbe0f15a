"""Table of safety alerts issued to the rangers of an area."""

from __future__ import annotations

import uuid
from datetime import datetime

from geoalchemy2 import Geometry
from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from server.core.db import Base, ChangeTracked, created_at_column, geometry_ok, new_id, one_of

SEVERITIES = ("info", "warning", "critical")


class SafetyAlert(ChangeTracked, Base):
    __tablename__ = "safety_alerts"
    __table_args__ = (
        geometry_ok("geom"),
        one_of("severity", SEVERITIES),
        CheckConstraint("valid_until IS NULL OR valid_until > valid_from", name="valid_window"),
        Index("ix_safety_alerts_area_id_valid_from", "area_id", "valid_from"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    area_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"))
    geom = mapped_column(Geometry("GEOMETRY", srid=4326, spatial_index=True))  # None: whole area
    severity: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text)
    valid_from: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    valid_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Who should receive it: {"zones": [...], "teams": [...]}; empty means the whole area.
    audience: Mapped[dict] = mapped_column(JSONB, default=dict)
    source: Mapped[str] = mapped_column(String(16), default="manager")  # manager, sos, rule
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at_column()
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
