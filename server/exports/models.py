"""The table of export jobs: who asked for which area's export in which format, how far it got,
where its file is (under EXPORT_DIR) and until when it may be downloaded."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ARRAY, BigInteger, Boolean, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from server.accounts.models import User
from server.areas.models import Area
from server.core.db import Base, created_at_column, new_id, one_of
from server.partners.models import PartnerKey

STATES = ("queued", "running", "done", "failed", "expired")
FORMATS = ("gpkg", "csv", "geojson", "gpx", "kml", "dwca")


class ExportJob(Base):
    __tablename__ = "export_jobs"
    __table_args__ = (one_of("state", STATES), one_of("format", FORMATS))

    # Keyed by area first, as every per-park table that is to be distributed by park.
    area_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey(Area.id, ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    format: Mapped[str] = mapped_column(String(8))
    everything: Mapped[bool] = mapped_column(Boolean, default=False)
    # Who asked: a user, or a partner key (whose collections narrow the export, as on /ogc/).
    requested_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey(User.id, ondelete="CASCADE"))
    partner_key_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey(PartnerKey.id, ondelete="CASCADE")
    )
    collections: Mapped[list[str] | None] = mapped_column(ARRAY(Text))
    state: Mapped[str] = mapped_column(String(8), default="queued")
    rows_total: Mapped[int | None] = mapped_column(Integer)
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    written: Mapped[dict | None] = mapped_column(JSONB)  # what the writer counted per layer
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
