"""Tables of partner keys (with the areas each reaches), their request log, and geoprivacy rules."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    ARRAY,
    BigInteger,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.dialects.postgresql import CIDR, INET
from sqlalchemy.orm import Mapped, mapped_column

from server.accounts.models import User
from server.areas.models import Area
from server.core.db import Base, created_at_column, new_id, one_of
from server.reports.models import ReportCategory

VISIBILITIES = ("hidden", "snapped", "exact")
MIN_SNAP_M, MAX_SNAP_M = 100, 100_000


class PartnerKey(Base):
    """A key an area admin issues to a partner organisation; only its SHA-256 is kept."""

    __tablename__ = "partner_keys"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    organisation: Mapped[str] = mapped_column(Text)
    key_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    key_prefix: Mapped[str] = mapped_column(String(16))  # shown in lists to tell keys apart
    # None: every collection of its areas; else collection names (boundary, zones, layer-road…)
    collections: Mapped[list[str] | None] = mapped_column(ARRAY(Text))
    networks: Mapped[list[str] | None] = mapped_column(ARRAY(CIDR))  # None: from anywhere
    rate_limit: Mapped[str] = mapped_column(Text)  # the `limits` notation: "120/minute"
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey(User.id))
    created_at: Mapped[datetime] = created_at_column()
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PartnerKeyArea(Base):
    __tablename__ = "partner_key_areas"

    key_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("partner_keys.id", ondelete="CASCADE"), primary_key=True
    )
    area_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey(Area.id, ondelete="CASCADE"), primary_key=True, index=True
    )


class PartnerRequest(Base):
    """One request made with a partner key: what it asked for and how much it got."""

    __tablename__ = "partner_requests"
    __table_args__ = (Index("ix_partner_requests_key_id_at", "key_id", "at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    key_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("partner_keys.id", ondelete="CASCADE"))
    at: Mapped[datetime] = created_at_column()
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(Text)
    query: Mapped[str] = mapped_column(Text)  # the query string, the key itself removed
    collection: Mapped[str | None] = mapped_column(Text)
    bbox: Mapped[list[float] | None] = mapped_column(ARRAY(Float))
    features: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[int] = mapped_column(SmallInteger)
    remote_addr: Mapped[str | None] = mapped_column(INET)


class GeoprivacyRule(Base):
    """What partners see of an area's reports of a category (and its sub-categories), or of a
    species, or (both empty) of every report. Where several rules match a report the most
    restrictive wins: hidden over snapped, the largest cell, the longest embargo."""

    __tablename__ = "geoprivacy_rules"
    __table_args__ = (
        one_of("visibility", VISIBILITIES),
        CheckConstraint(
            f"(visibility = 'snapped') = (cell_m IS NOT NULL)"
            f" AND (cell_m IS NULL OR cell_m BETWEEN {MIN_SNAP_M} AND {MAX_SNAP_M})",
            name="cell_when_snapped",
        ),
        CheckConstraint("embargo_days BETWEEN 0 AND 36500", name="embargo_range"),
        CheckConstraint("species IS NULL OR species = lower(btrim(species))", name="species_norm"),
        # One rule per (area, category, species), an empty category or species counting as one.
        Index(
            "uq_geoprivacy_rules_target",
            "area_id",
            "category_id",
            "species",
            unique=True,
            postgresql_nulls_not_distinct=True,
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    area_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(Area.id, ondelete="CASCADE"), index=True)
    category_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey(ReportCategory.id))
    species: Mapped[str | None] = mapped_column(Text)  # lower case, as reports name it
    visibility: Mapped[str] = mapped_column(String(8))
    cell_m: Mapped[int | None] = mapped_column(Integer)
    embargo_days: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = created_at_column()
