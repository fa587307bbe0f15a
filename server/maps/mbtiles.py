"""Writing MBTiles 1.3 files (SQLite; vector tiles gzip'd) and the MapLibre style of a package.

MBTiles rather than PMTiles: it is SQLite, which every handheld already has and which the
mobile map SDKs (MapLibre Native, OsmAnd, Locus, QField) open as it is; the device can apply a
delta in one SQLite transaction; the parks' raster base maps already come as MBTiles; and the
standard library writes it. PMTiles shines for serving from object storage by Range requests,
which a handheld with the file on its own disk does not need.
"""

from __future__ import annotations

import gzip
import json
import sqlite3
from pathlib import Path

SCHEMA = """
CREATE TABLE metadata (name TEXT PRIMARY KEY, value TEXT);
CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB,
                    PRIMARY KEY (zoom_level, tile_column, tile_row));
"""
DELTA_SCHEMA = (
    SCHEMA
    + """
CREATE TABLE removed_tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER,
                            PRIMARY KEY (zoom_level, tile_column, tile_row));
"""
)
COLOURS = {
    "road": "#8d6e63",
    "river": "#4fc3f7",
    "fence": "#616161",
    "water_point": "#0288d1",
    "ranger_post": "#d84315",
    "airstrip": "#757575",
    "boundary_buffer": "#c5e1a5",
}


def create(path: Path, metadata: dict[str, str], delta: bool = False) -> sqlite3.Connection:
    path.unlink(missing_ok=True)
    db = sqlite3.connect(path, isolation_level=None)
    db.executescript(DELTA_SCHEMA if delta else SCHEMA)
    db.executemany("INSERT INTO metadata VALUES (?, ?)", sorted(metadata.items()))
    return db


def tms_row(z: int, y: int) -> int:
    """MBTiles counts rows from the south (TMS); XYZ tile addresses count from the north."""
    return 2**z - 1 - y


def compress(tile: bytes) -> bytes:
    return gzip.compress(tile, mtime=0)  # mtime 0: the same tile gives the same bytes


def write_delta(new: Path, old: Path, out: Path, metadata: dict[str, str]) -> int:
    """Tiles new or changed since `old`, and those removed; the number of entries."""
    db = create(out, metadata, delta=True)
    try:
        db.execute("ATTACH DATABASE ? AS new", (str(new),))
        db.execute("ATTACH DATABASE ? AS old", (str(old),))
        db.execute("BEGIN")
        db.execute(
            "INSERT INTO tiles SELECT n.* FROM new.tiles n LEFT JOIN old.tiles o"
            " USING (zoom_level, tile_column, tile_row)"
            " WHERE o.tile_data IS NULL OR o.tile_data <> n.tile_data"
        )
        db.execute(
            "INSERT INTO removed_tiles SELECT o.zoom_level, o.tile_column, o.tile_row"
            " FROM old.tiles o LEFT JOIN new.tiles n USING (zoom_level, tile_column, tile_row)"
            " WHERE n.zoom_level IS NULL"
        )
        db.execute("COMMIT")
        changed = db.execute(
            "SELECT (SELECT count(*) FROM tiles) + (SELECT count(*) FROM removed_tiles)"
        ).fetchone()[0]
        db.execute("DETACH DATABASE new")
        db.execute("DETACH DATABASE old")
        db.execute("VACUUM")
        return changed
    finally:
        db.close()


def basemap_format(path: Path) -> str:
    """The tile format of a raster MBTiles a park supplies (png, jpg or webp), or ValueError."""
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            meta = dict(db.execute("SELECT name, value FROM metadata").fetchall())
            db.execute("SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles LIMIT 1")
    except sqlite3.DatabaseError as error:
        raise ValueError(f"not an MBTiles file: {error}") from None
    fmt = meta.get("format", "").lower().replace("jpeg", "jpg")
    if fmt not in ("png", "jpg", "webp"):
        raise ValueError(f"a raster base map must be png, jpg or webp tiles, not {fmt or '?'!r}")
    return fmt


def style(name: str, layers: list[tuple[str, str]], basemap: bool) -> dict:
    """A MapLibre style (v8) for the package: fills, lines and circles, no fonts or sprites,
    so that nothing has to be fetched from anywhere. `layers`: (layer, geometry family)."""
    sources: dict = {"park": {"type": "vector", "url": "mbtiles://layers.mbtiles"}}
    out: list[dict] = [
        {"id": "background", "type": "background", "paint": {"background-color": "#f3f1e7"}}
    ]
    if basemap:
        sources["basemap"] = {"type": "raster", "url": "mbtiles://basemap.mbtiles", "tileSize": 256}
        out.append({"id": "basemap", "type": "raster", "source": "basemap"})
    for layer, family in layers:
        colour = COLOURS.get(layer, "#6a1b9a")
        base = {"id": layer, "source": "park", "source-layer": layer}
        if layer == "zones":
            out.append(
                base
                | {
                    "type": "fill",
                    "paint": {
                        "fill-color": "#a5d6a7",
                        "fill-opacity": 0.25,
                        "fill-outline-color": "#2e7d32",
                    },
                }
            )
        elif layer == "boundary":
            out.append(
                base | {"type": "line", "paint": {"line-color": "#1b5e20", "line-width": 2.5}}
            )
        elif family == "polygon":
            out.append(
                base | {"type": "fill", "paint": {"fill-color": colour, "fill-opacity": 0.3}}
            )
        elif family == "line":
            out.append(base | {"type": "line", "paint": {"line-color": colour, "line-width": 1.5}})
        else:
            out.append(
                base
                | {
                    "type": "circle",
                    "paint": {
                        "circle-color": colour,
                        "circle-radius": 5,
                        "circle-stroke-color": "#ffffff",
                        "circle-stroke-width": 1,
                    },
                }
            )
    return {"version": 8, "name": name, "sources": sources, "layers": out}


def write_json(path: Path, value: dict) -> None:
    path.write_text(json.dumps(value, indent=1, sort_keys=True))
