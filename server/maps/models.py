"""Tables of offline map packages (one row per built version), parks' raster base maps, and the
key fields imports remember per layer and source."""

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
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from server.core.db import Base, ChangeTracked, created_at_column, new_id

BASEMAP_FORMATS = ("png", "jpg", "webp")


class MapPackage(ChangeTracked, Base):
    """A built offline package of an area: its files live under MAPS_DIR/<area>/<version>/.

    `snapshot` is the database snapshot the tiles were read in: the package is stale as soon as a
    layer row changes in a transaction that snapshot did not see (the pull cursor's test)."""

    __tablename__ = "map_packages"
    __table_args__ = (
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint(
            "min_zoom BETWEEN 0 AND 22 AND max_zoom BETWEEN min_zoom AND 22", name="zoom_range"
        ),
        UniqueConstraint("area_id", "version"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    area_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    built_at: Mapped[datetime] = created_at_column()
    superseded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    snapshot: Mapped[str] = mapped_column(Text)
    min_zoom: Mapped[int] = mapped_column(SmallInteger)
    max_zoom: Mapped[int] = mapped_column(SmallInteger)
    bounds: Mapped[list[float]] = mapped_column(ARRAY(Float))
    tile_count: Mapped[int] = mapped_column(Integer)
    tiles_sha256: Mapped[str] = mapped_column(String(64))  # sync.device.mappack.tiles_digest
    # [{"name", "role", "size", "sha256", "from_version"?}]: the files as the manifest lists them
    files: Mapped[list] = mapped_column(JSONB)


class MapBasemap(Base):
    """A raster base map (MBTiles) a park supplies; attached to every package built after."""

    __tablename__ = "map_basemaps"
    __table_args__ = (
        CheckConstraint(
            f"format IN ({', '.join(repr(f) for f in BASEMAP_FORMATS)})", name="format"
        ),
    )

    area_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("areas.id", ondelete="CASCADE"), primary_key=True
    )
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    format: Mapped[str] = mapped_column(Text)
    attached_at: Mapped[datetime] = created_at_column()


class MapImportSource(Base):
    """The key field that a layer's last import of one source (a layer of a file: a Shapefile's
    name, a GeoPackage table, a KML folder) matched features by, so that the next import of the
    same source matches them the same way without being told again."""

    __tablename__ = "map_import_sources"

    area_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("areas.id", ondelete="CASCADE"), primary_key=True
    )
    layer: Mapped[str] = mapped_column(Text, primary_key=True)
    source: Mapped[str] = mapped_column(Text, primary_key=True)
    key_field: Mapped[str] = mapped_column(Text)
    filename: Mapped[str] = mapped_column(Text)  # the file it was last imported from
    imported_at: Mapped[datetime] = created_at_column()
