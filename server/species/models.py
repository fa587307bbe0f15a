"""The taxon table: reference data for every area (replicated on Citus), pulled by devices."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Date, DateTime, Integer, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from server.core.db import Base, ChangeTracked, created_at_column, new_id, one_of

RANKS = ("KINGDOM", "PHYLUM", "CLASS", "ORDER", "FAMILY", "SUBFAMILY", "GENUS", "SPECIES")
RANKS += ("SUBSPECIES", "VARIETY")
# A split listing (some populations in one appendix, the rest in another) reads "I/II".
APPENDICES = ("I", "II", "III", "I/II", "I/III", "II/III", "I/II/III")


class Taxon(ChangeTracked, Base):
    __tablename__ = "taxa"
    __table_args__ = (
        one_of("rank", RANKS),
        one_of("cites_appendix", APPENDICES),
        CheckConstraint("scientific_name <> ''", name="name_not_empty"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    scientific_name: Mapped[str] = mapped_column(Text, unique=True)
    author: Mapped[str | None] = mapped_column(Text)
    rank: Mapped[str] = mapped_column(String(16))
    kingdom: Mapped[str | None] = mapped_column(Text)
    phylum: Mapped[str | None] = mapped_column(Text)
    class_name: Mapped[str | None] = mapped_column(Text)
    order_name: Mapped[str | None] = mapped_column(Text)
    family: Mapped[str | None] = mapped_column(Text)
    genus: Mapped[str | None] = mapped_column(Text)
    # {"en": ["African elephant"], "fr": [...], "sw": ["tembo"]}: ISO 639-1 → names
    common_names: Mapped[dict] = mapped_column(JSONB, default=dict)
    cites_appendix: Mapped[str | None] = mapped_column(String(8))
    cites_listed_on: Mapped[date | None] = mapped_column(Date)
    species_plus_id: Mapped[int | None] = mapped_column(Integer, unique=True)
    # Never shown to partners at full precision: where it is seized tells a trafficker too much.
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str | None] = mapped_column(Text)  # where this row came from
    version: Mapped[int] = mapped_column(BigInteger, default=1)
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = created_at_column()
