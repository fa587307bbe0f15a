"""The park's raster base map (the MBTiles the handhelds get in their package) served tile by
tile to the dashboard's map, so managers see the same ground the rangers see, offline."""

from __future__ import annotations

import sqlite3
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from server.core.errors import NotFound
from server.core.policy import Action, Actor, authorize
from server.maps import mbtiles
from server.maps.models import MapBasemap

MEDIA = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp"}


@dataclass(frozen=True)
class BasemapInfo:
    format: str
    sha256: str
    minzoom: int
    maxzoom: int
    bounds: list[float] | None


def _file(session: Session, actor: Actor, area_id: uuid.UUID, maps_dir: Path):
    authorize(actor, Action.MAP_VIEW, area_id, "area")
    basemap = session.get(MapBasemap, area_id)
    if basemap is None:
        raise NotFound("this area has no raster base map")
    path = maps_dir / str(area_id) / "basemap" / f"{basemap.sha256}.mbtiles"
    if not path.is_file():
        raise NotFound("this area's raster base map file is missing")
    return basemap, path


def _read(path: Path, query: str, args: tuple = ()):
    with sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True) as db:
        return db.execute(query, args).fetchall()


def info(session: Session, actor: Actor, area_id: uuid.UUID, maps_dir: Path) -> BasemapInfo:
    """Its tile format, zoom range and bounds (from the file's own metadata, else its tiles)."""
    basemap, path = _file(session, actor, area_id, maps_dir)
    meta = dict(_read(path, "SELECT name, value FROM metadata"))
    low, high = _read(path, "SELECT min(zoom_level), max(zoom_level) FROM tiles")[0]
    try:
        bounds = [float(v) for v in meta["bounds"].split(",")]
    except (KeyError, ValueError):
        bounds = None
    if bounds is not None and len(bounds) != 4:
        bounds = None
    return BasemapInfo(basemap.format, basemap.sha256, low or 0, high or 0, bounds)


def tile(
    session: Session, actor: Actor, area_id: uuid.UUID, z: int, x: int, y: int, maps_dir: Path
) -> tuple[bytes, str, str]:
    """One tile (XYZ address) as (bytes, media type, etag); 404 where the base map has none."""
    basemap, path = _file(session, actor, area_id, maps_dir)
    rows = _read(
        path,
        "SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?",
        (z, x, mbtiles.tms_row(z, y)),
    )
    if not rows:
        raise NotFound("no base map tile there")
    return rows[0][0], MEDIA[basemap.format], f"{basemap.sha256[:16]}-{z}-{x}-{y}"
