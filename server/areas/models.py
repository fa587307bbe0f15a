"""Tables of protected areas, zones and map features (roads, posts, water, the boundary buffer…)."""

from __future__ import annotations

import uuid
from datetime import datetime

from geoalchemy2 import Geometry
from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Index, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from server.core.db import Base, ChangeTracked, created_at_column, geometry_ok, new_id, one_of

SLUG_PATTERN = "^[a-z0-9][a-z0-9-]{0,62}$"
LAYER_PATTERN = "^[a-z][a-z0-9_]{0,31}$"
ZONE_KINDS = ("management", "intensive_protection", "danger", "buffer", "community", "other")
# The demo park's layers; managers may name others (lower-case, digits, '_'; see LAYER_PATTERN).
FEATURE_LAYERS = (
    "road",
    "river",
    "ranger_post",
    "water_point",
    "boundary_buffer",
    "airstrip",
    "fence",
    "landmark",
    "other",
)


class Area(ChangeTracked, Base):
    __tablename__ = "areas"
    __table_args__ = (
        geometry_ok("boundary"),
        CheckConstraint(f"slug ~ '{SLUG_PATTERN}'", name="slug_format"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(Text)
    boundary = mapped_column(
        Geometry("MULTIPOLYGON", srid=4326, spatial_index=True), nullable=False
    )
    timezone: Mapped[str] = mapped_column(Text, default="UTC")
    created_at: Mapped[datetime] = created_at_column()


class _Versioned:
    """Layers change under managers' hands and reach devices by sync: every change bumps `version`,
    deletions are kept as tombstones (`deleted_at`) so a device's pull can learn of them."""

    version: Mapped[int] = mapped_column(BigInteger, default=1)
    updated_at: Mapped[datetime] = created_at_column()
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Zone(ChangeTracked, _Versioned, Base):
    __tablename__ = "zones"
    __table_args__ = (geometry_ok("geom"), one_of("kind", ZONE_KINDS))

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    area_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("areas.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(32), default="management")
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=True), nullable=False)
    properties: Mapped[dict] = mapped_column(JSONB, default=dict)
    created_at: Mapped[datetime] = created_at_column()


class MapFeature(ChangeTracked, _Versioned, Base):
    __tablename__ = "map_features"
    __table_args__ = (
        geometry_ok("geom"),
        CheckConstraint(f"layer ~ '{LAYER_PATTERN}'", name="layer_format"),
        # (area, layer, id): a layer's features in id order, for keyset pages (server/ogc)
        Index("ix_map_features_area_id_layer_id", "area_id", "layer", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    area_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"))
    layer: Mapped[str] = mapped_column(String(32))
    name: Mapped[str | None] = mapped_column(Text)
    geom = mapped_column(Geometry("GEOMETRY", srid=4326, spatial_index=True), nullable=False)
    properties: Mapped[dict] = mapped_column(JSONB, default=dict)
    created_at: Mapped[datetime] = created_at_column()
