"""Mapbox Vector Tiles straight from PostGIS (ST_AsMVT), scoped by the caller's rights, cached
until the data under them changes.

A tile layer is one of the park's map-feature layers (`road`, `water_point`, …) or one of the
built-in ones: `boundary`, `zones`, `patrols` (lines) and `reports` (points). Patrols and
reports need the field rights (partners never get them); every layer is cut to the areas the
caller may see, so park A's tiles never hold park B's data. Lines and polygons are simplified
to about one screen pixel at the tile's zoom before ST_AsMVTGeom snaps them to the tile grid.
JIT is off on every connection (server.core.db): it adds ~150 ms to a dense tile and saves nothing.
"""

from __future__ import annotations

import hashlib
import re
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from server.areas.models import LAYER_PATTERN
from server.core.errors import Invalid, NotFound
from server.core.policy import Action, Actor
from server.maps.changes import changed_since
from server.maps.scope import areas_in_scope

EXTENT = 4096
BUFFER = 64
MAX_ZOOM = 22
WORLD_M = 2 * 20037508.342789244
MEDIA_TYPE = "application/vnd.mapbox-vector-tile"

# layer → (source, right needed, the rows of one tile). The rows see the CTE `e` (env: the
# tile in EPSG:3857; box: the tile plus its buffer in EPSG:4326, for the GiST index).
_BUILT_IN: dict[str, tuple[str, Action, str]] = {
    "boundary": (
        "boundary",
        Action.MAP_VIEW,
        """
        SELECT ST_AsMVTGeom(ST_Simplify(ST_Transform(a.boundary, 3857), :tol), e.env,
                            :extent, :buffer, true) AS geom,
               a.id::text AS id, a.slug, a.name
        FROM areas a CROSS JOIN e WHERE a.id = ANY(:areas) AND a.boundary && e.box""",
    ),
    "zones": (
        "zones",
        Action.MAP_VIEW,
        """
        SELECT ST_AsMVTGeom(ST_Simplify(ST_Transform(z.geom, 3857), :tol), e.env,
                            :extent, :buffer, true) AS geom,
               z.id::text AS id, z.name, z.kind, z.version
        FROM zones z CROSS JOIN e
        WHERE z.area_id = ANY(:areas) AND z.deleted_at IS NULL AND z.geom && e.box""",
    ),
    "patrols": (
        "patrols",
        Action.PATROL_VIEW,
        """
        SELECT ST_AsMVTGeom(ST_Simplify(ST_Transform(p.line, 3857), :tol), e.env,
                            :extent, :buffer, true) AS geom,
               p.id::text AS id, p.patrol_type,
               to_char(p.started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS started_at,
               round(p.distance_m)::int AS distance_m, p.point_count
        FROM patrols p CROSS JOIN e
        WHERE p.area_id = ANY(:areas) AND p.line && e.box""",
    ),
    "reports": (
        "reports",
        Action.REPORT_VIEW,
        """
        SELECT ST_AsMVTGeom(ST_Transform(r.geom, 3857), e.env, :extent, :buffer, true) AS geom,
               r.id::text AS id, c.key AS category, r.status, r.priority,
               to_char(r.observed_at AT TIME ZONE 'UTC',
                       'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS observed_at
        FROM reports r JOIN report_categories c ON c.id = r.category_id CROSS JOIN e
        WHERE r.area_id = ANY(:areas) AND r.geom && e.box""",
    ),
}
_FEATURES = """
        SELECT ST_AsMVTGeom(ST_Simplify(ST_Transform(f.geom, 3857), :tol), e.env,
                            :extent, :buffer, true) AS geom,
               f.id::text AS id, f.name, f.version, f.properties
        FROM map_features f CROSS JOIN e
        WHERE f.area_id = ANY(:areas) AND f.layer = :layer AND f.deleted_at IS NULL
          AND f.geom && e.box"""
_ENVELOPE = """
    WITH e AS (SELECT ST_TileEnvelope(:z, :x, :y) AS env,
                      ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => :margin), 4326) AS box)"""
BUILT_IN_LAYERS = tuple(_BUILT_IN)


@dataclass(frozen=True)
class LayerSpec:
    name: str
    source: str
    action: Action
    rows: str


def layer_spec(name: str) -> LayerSpec:
    if name in _BUILT_IN:
        source, action, rows = _BUILT_IN[name]
        return LayerSpec(name, source, action, rows)
    if not re.fullmatch(LAYER_PATTERN, name):
        raise NotFound(f"no layer {name!r}")
    return LayerSpec(name, "features", Action.MAP_VIEW, _FEATURES)


def tile_sql(spec: LayerSpec, *, with_snapshot: bool = True) -> str:
    """The one statement that renders a tile; with the snapshot it was read in, for the cache
    (in READ COMMITTED both are taken from the statement's own snapshot)."""
    mvt = (
        f"(SELECT ST_AsMVT(t.*, :name, :extent, 'geom') FROM ({spec.rows}) t"  # noqa: S608
        " WHERE t.geom IS NOT NULL)"
    )
    snapshot = "pg_current_snapshot()::text" if with_snapshot else "NULL::text"
    return f"{_ENVELOPE} SELECT {snapshot} AS snapshot, {mvt} AS mvt"


def tile_params(spec: LayerSpec, z: int, x: int, y: int, areas: list[uuid.UUID]) -> dict:
    return {
        "z": z,
        "x": x,
        "y": y,
        "margin": BUFFER / EXTENT,
        "extent": EXTENT,
        "buffer": BUFFER,
        "tol": WORLD_M / 2**z / 512,
        "name": spec.name,
        "layer": spec.name,
        "areas": areas,
    }


def check_tile_address(z: int, x: int, y: int) -> None:
    if not 0 <= z <= MAX_ZOOM:
        raise Invalid(f"zoom {z} is outside 0–{MAX_ZOOM}", errors={"z": ["out of range"]})
    last = 2**z - 1
    for axis, value in (("x", x), ("y", y)):
        if not 0 <= value <= last:
            raise Invalid(
                f"{axis} {value} is outside 0–{last} at zoom {z}", errors={axis: ["out of range"]}
            )


@dataclass(frozen=True)
class Tile:
    body: bytes
    etag: str
    snapshot: str
    cached: bool = False


class TileCache:
    """Rendered tiles in this process, least recently used first out, within a byte budget.

    An entry is used only after `changed_since` says nothing under it changed, so a stale tile
    is never served; each worker process validates against the database the same way."""

    def __init__(self, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[tuple, Tile] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: tuple) -> Tile | None:
        with self._lock:
            tile = self._entries.get(key)
            if tile is not None:
                self._entries.move_to_end(key)
            return tile

    def put(self, key: tuple, tile: Tile) -> None:
        if len(tile.body) > self.max_bytes:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= len(old.body)
            self._entries[key] = tile
            self._bytes += len(tile.body)
            while self._bytes > self.max_bytes:
                _, evicted = self._entries.popitem(last=False)
                self._bytes -= len(evicted.body)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0


def render(session: Session, spec: LayerSpec, z: int, x: int, y: int, areas: list) -> Tile:
    row = session.execute(text(tile_sql(spec)), tile_params(spec, z, x, y, areas)).one()
    body = bytes(row.mvt or b"")
    return Tile(body, hashlib.sha256(body).hexdigest()[:32], row.snapshot)


def get_tile(
    session: Session,
    actor: Actor,
    layer: str,
    z: int,
    x: int,
    y: int,
    *,
    area_id: uuid.UUID | None = None,
    cache: TileCache | None = None,
) -> Tile:
    """One tile of `layer` over the caller's areas (or the one given), from the cache if nothing
    under it changed since it was rendered."""
    spec = layer_spec(layer)
    check_tile_address(z, x, y)
    areas = areas_in_scope(session, actor, spec.action, area_id)
    key = (layer, z, x, y, tuple(areas))
    cached = cache.get(key) if cache is not None else None
    if cached is not None and not changed_since(session, cached.snapshot, areas, [spec.source]):
        return Tile(cached.body, cached.etag, cached.snapshot, cached=True)
    if spec.source == "features" and not _layer_exists(session, layer, areas):
        raise NotFound(f"no layer {layer!r} in your areas")
    tile = render(session, spec, z, x, y, areas)
    if cache is not None:
        cache.put(key, tile)
    return tile


def _layer_exists(session: Session, layer: str, areas: list[uuid.UUID]) -> bool:
    return session.execute(
        text(
            "SELECT EXISTS (SELECT 1 FROM map_features WHERE area_id = ANY(:areas)"
            " AND layer = :layer AND deleted_at IS NULL)"
        ),
        {"areas": areas, "layer": layer},
    ).scalar_one()


def package_tile_sql(specs: list[LayerSpec]) -> tuple[str, dict]:
    """One statement rendering every layer of a tile for an offline package: the layers' MVT
    bytes concatenated, which is itself a valid tile (a tile is a sequence of layers)."""
    parts, params = [], {}
    for i, spec in enumerate(specs):
        rows = spec.rows.replace(":layer", f":layer_{i}")
        parts.append(
            f"coalesce((SELECT ST_AsMVT(t.*, :name_{i}, :extent, 'geom') FROM ({rows}) t"  # noqa: S608
            " WHERE t.geom IS NOT NULL), ''::bytea)"
        )
        params |= {f"name_{i}": spec.name, f"layer_{i}": spec.name}
    return f"{_ENVELOPE} SELECT {' || '.join(parts)} AS mvt", params
