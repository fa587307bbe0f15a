"""Offline map packages: build an area's package (vector tiles for the zooms rangers use, a
MapLibre style, the park's raster base map if attached, a delta from the previous version),
describe it in a manifest, hand out its files, and tell whether the layers moved on since.

Files live under MAPS_DIR/<area id>/<version>/ and are written to a temporary folder renamed
into place, so a half-built package is never served. The two previous versions are kept, so a
device that is one or two versions behind can still download the delta or resume a download.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import sqlite3
import uuid
from pathlib import Path

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from server.areas.models import Area
from server.core import audit
from server.core.errors import Gone, Invalid, NotFound
from server.core.policy import Action, Actor, authorize
from server.maps import mbtiles
from server.maps.changes import changed_since
from server.maps.models import MapBasemap, MapPackage
from server.maps.tiles import layer_spec, package_tile_sql, tile_params
from sync.protocol.digests import tiles_digest

DEFAULT_ZOOMS = (8, 15)
KEEP_VERSIONS = 3
MAP_SOURCES = ("boundary", "zones", "features")
FILE_NAME = r"^(layers|basemap|delta-[0-9]+)\.mbtiles$|^style\.json$"
_FAMILY = {
    "POINT": "point",
    "MULTIPOINT": "point",
    "LINESTRING": "line",
    "MULTILINESTRING": "line",
    "POLYGON": "polygon",
    "MULTIPOLYGON": "polygon",
}
_DRAW_ORDER = {"polygon": 0, "line": 1, "point": 2}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _entry(path: Path, role: str, **extra) -> dict:
    return {
        "name": path.name,
        "role": role,
        "size": path.stat().st_size,
        "sha256": _sha256(path),
    } | extra


def _tile_range(bounds: list[float], z: int) -> tuple[int, int, int, int]:
    n = 2**z
    west, south, east, north = bounds

    def x_of(lon):
        return min(n - 1, max(0, int((lon + 180) / 360 * n)))

    def y_of(lat):
        lat = max(min(lat, 85.0511), -85.0511)
        return min(
            n - 1, max(0, int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n))
        )

    return x_of(west), x_of(east), y_of(north), y_of(south)


def _layers(session: Session, area_id: uuid.UUID) -> list[tuple[str, str]]:
    rows = session.execute(
        text(
            "SELECT layer, min(GeometryType(geom)) AS gtype FROM map_features"
            " WHERE area_id = :a AND deleted_at IS NULL GROUP BY layer"
        ),
        {"a": area_id},
    ).all()
    features = sorted(
        ((r.layer, _FAMILY.get(r.gtype, "point")) for r in rows),
        key=lambda lf: (_DRAW_ORDER[lf[1]], lf[0]),
    )
    return [("zones", "polygon"), ("boundary", "line"), *features]


def _write_tiles(session, area_id, layers, bounds, zooms, path: Path, metadata) -> int:
    specs = [layer_spec(name) for name, _ in layers]
    sql, layer_params = package_tile_sql(specs)
    db = mbtiles.create(path, metadata)
    count = 0
    try:
        db.execute("BEGIN")
        for z in range(zooms[0], zooms[1] + 1):
            x0, x1, y0, y1 = _tile_range(bounds, z)
            inside = session.execute(
                text(
                    "SELECT x, y FROM generate_series(CAST(:x0 AS int), CAST(:x1 AS int)) x,"
                    " generate_series(CAST(:y0 AS int), CAST(:y1 AS int)) y,"
                    " areas a WHERE a.id = :a AND ST_Intersects(a.boundary,"
                    " ST_Transform(ST_TileEnvelope(:z, x, y), 4326)) ORDER BY x, y"
                ),
                {"x0": x0, "x1": x1, "y0": y0, "y1": y1, "z": z, "a": area_id},
            ).all()
            for x, y in inside:
                params = tile_params(specs[0], z, x, y, [area_id]) | layer_params
                tile = session.execute(text(sql), params).scalar_one()
                if tile:
                    db.execute(
                        "INSERT INTO tiles VALUES (?, ?, ?, ?)",
                        (z, x, mbtiles.tms_row(z, y), mbtiles.compress(bytes(tile))),
                    )
                    count += 1
        db.execute("COMMIT")
    finally:
        db.close()
    return count


def build(
    session: Session,
    actor: Actor,
    area_id: uuid.UUID,
    maps_dir: Path,
    *,
    zooms: tuple[int | None, int | None] = (None, None),
    only_if_stale: bool = False,
) -> MapPackage | None:
    """Build the next version of the area's package; None if `only_if_stale` and it is current."""
    authorize(actor, Action.MAP_EDIT, area_id, "area")
    session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext('mappack:' || :a))"), {"a": str(area_id)}
    )
    previous = _current(session, area_id)
    if only_if_stale and previous is not None and not is_stale(session, previous):
        return None
    last = (previous.min_zoom, previous.max_zoom) if previous else DEFAULT_ZOOMS
    zooms = (last[0] if zooms[0] is None else zooms[0], last[1] if zooms[1] is None else zooms[1])
    if not 0 <= zooms[0] <= zooms[1] <= 18:
        raise Invalid(f"zooms {zooms} must rise within 0–18", errors={"zooms": ["out of range"]})
    snapshot = session.execute(text("SELECT pg_current_snapshot()::text")).scalar_one()
    row = session.execute(
        text(
            "SELECT a.slug, a.name, ST_XMin(a.boundary) w, ST_YMin(a.boundary) s,"
            " ST_XMax(a.boundary) e, ST_YMax(a.boundary) n FROM areas a WHERE a.id = :a"
        ),
        {"a": area_id},
    ).one()
    bounds = [round(v, 6) for v in (row.w, row.s, row.e, row.n)]
    version = (previous.version if previous else 0) + 1
    layers = _layers(session, area_id)
    area_dir = maps_dir / str(area_id)
    building = area_dir / f".building-{uuid.uuid4().hex}"
    building.mkdir(parents=True)
    try:
        centre = [round((bounds[0] + bounds[2]) / 2, 6), round((bounds[1] + bounds[3]) / 2, 6)]
        metadata = {
            "name": row.name,
            "format": "pbf",
            "type": "overlay",
            "version": str(version),
            "bounds": ",".join(map(str, bounds)),
            "center": ",".join(map(str, [*centre, zooms[0]])),
            "minzoom": str(zooms[0]),
            "maxzoom": str(zooms[1]),
            "json": json.dumps(
                {
                    "vector_layers": [
                        {"id": name, "fields": {}, "minzoom": zooms[0], "maxzoom": zooms[1]}
                        for name, _ in layers
                    ]
                }
            ),
        }
        tiles_path = building / "layers.mbtiles"
        count = _write_tiles(session, area_id, layers, bounds, zooms, tiles_path, metadata)
        with sqlite3.connect(tiles_path) as db:
            digest = tiles_digest(db)
        files = [_entry(tiles_path, "tiles")]
        basemap = session.get(MapBasemap, area_id)
        if basemap is not None:
            target = building / "basemap.mbtiles"
            os.link(area_dir / "basemap" / f"{basemap.sha256}.mbtiles", target)
            files.append(_entry(target, "basemap"))
        style_path = building / "style.json"
        mbtiles.write_json(style_path, mbtiles.style(row.name, layers, basemap is not None))
        files.append(_entry(style_path, "style"))
        if previous is not None and (area_dir / str(previous.version)).is_dir():
            delta = building / f"delta-{previous.version}.mbtiles"
            mbtiles.write_delta(
                tiles_path, area_dir / str(previous.version) / "layers.mbtiles", delta, metadata
            )
            files.append(_entry(delta, "delta", from_version=previous.version))
        final = area_dir / str(version)
        if final.exists():  # left by a build whose transaction did not commit (we hold the lock)
            shutil.rmtree(final)
        building.rename(final)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    session.execute(
        update(MapPackage)
        .where(MapPackage.area_id == area_id, MapPackage.superseded_at.is_(None))
        .values(superseded_at=func.now())
    )
    package = MapPackage(
        area_id=area_id,
        version=version,
        snapshot=snapshot,
        min_zoom=zooms[0],
        max_zoom=zooms[1],
        bounds=bounds,
        tile_count=count,
        tiles_sha256=digest,
        files=files,
    )
    session.add(package)
    session.flush()
    audit.record(
        session,
        actor,
        "mappack.build",
        "map_package",
        package.id,
        area_id=area_id,
        version=version,
        tiles=count,
    )
    _prune(area_dir, version)
    return package


def _prune(area_dir: Path, version: int) -> None:
    for child in area_dir.iterdir():
        if child.name.isdigit() and int(child.name) <= version - KEEP_VERSIONS:
            shutil.rmtree(child, ignore_errors=True)


def _current(session: Session, area_id: uuid.UUID) -> MapPackage | None:
    return session.scalar(
        select(MapPackage)
        .where(MapPackage.area_id == area_id)
        .order_by(MapPackage.version.desc())
        .limit(1)
    )


def is_stale(session: Session, package: MapPackage) -> bool:
    """Did a layer change in a transaction the package's snapshot missed, or the base map?"""
    basemap = session.get(MapBasemap, package.area_id)
    packed = next((f["sha256"] for f in package.files if f["role"] == "basemap"), None)
    if (basemap.sha256 if basemap else None) != packed:
        return True
    return changed_since(session, package.snapshot, [package.area_id], MAP_SOURCES)


def manifest_of(session: Session, package: MapPackage, slug: str) -> dict:
    base = f"/api/v1/areas/{package.area_id}/mappack/{package.version}/"
    return {
        "area": slug,
        "version": package.version,
        "built_at": package.built_at,
        "stale": is_stale(session, package),
        "bounds": package.bounds,
        "center": [
            (package.bounds[0] + package.bounds[2]) / 2,
            (package.bounds[1] + package.bounds[3]) / 2,
        ],
        "min_zoom": package.min_zoom,
        "max_zoom": package.max_zoom,
        "tile_count": package.tile_count,
        "tiles_sha256": package.tiles_sha256,
        "size": sum(f["size"] for f in package.files if f["role"] != "delta"),
        "base_url": base,
        "files": [f | {"href": base + f["name"]} for f in package.files],
    }


def current_manifest(session: Session, area_id: uuid.UUID, slug: str) -> dict | None:
    """The manifest of the area's current package, for callers who may see the area."""
    package = _current(session, area_id)
    return manifest_of(session, package, slug) if package is not None else None


def manifest(session: Session, actor: Actor, area_id: uuid.UUID) -> dict:
    authorize(actor, Action.MAP_VIEW, area_id, "area")
    found = current_manifest(session, area_id, session.get(Area, area_id).slug)
    if found is None:
        raise NotFound("no offline map package has been built for this area yet")
    return found


def package_file(
    session: Session, actor: Actor, area_id: uuid.UUID, version: int, name: str, maps_dir: Path
) -> tuple[Path, str]:
    """The path and SHA-256 of one file of a package version the caller may download."""
    authorize(actor, Action.MAP_VIEW, area_id, "area")
    package = session.scalar(
        select(MapPackage).where(MapPackage.area_id == area_id, MapPackage.version == version)
    )
    entry = next((f for f in package.files if f["name"] == name), None) if package else None
    if entry is None:
        raise NotFound(f"no file {name!r} in version {version} of this area's package")
    path = maps_dir / str(area_id) / str(version) / name
    if not path.is_file():
        raise Gone(f"version {version} is no longer kept; download the current one")
    return path, entry["sha256"]


def attach_basemap(
    session: Session, actor: Actor, area_id: uuid.UUID, source: Path, maps_dir: Path
):
    """Attach a park's raster base map (MBTiles); packages built from now on carry it."""
    authorize(actor, Action.MAP_EDIT, area_id, "area")
    try:
        fmt = mbtiles.basemap_format(source)
    except ValueError as error:
        raise Invalid(str(error), errors={"file": ["not a raster MBTiles"]}) from None
    sha = _sha256(source)
    folder = maps_dir / str(area_id) / "basemap"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{sha}.mbtiles"
    if not target.exists():
        shutil.copyfile(source, folder / f".{sha}.part")
        (folder / f".{sha}.part").rename(target)
    basemap = session.get(MapBasemap, area_id) or MapBasemap(area_id=area_id)
    basemap.sha256, basemap.size, basemap.format = sha, target.stat().st_size, fmt
    basemap.attached_at = func.now()
    session.add(basemap)
    session.flush()
    audit.record(session, actor, "mappack.basemap", "area", area_id, area_id=area_id, sha256=sha)
    return basemap


def stale_areas(session: Session) -> list[str]:
    """Slugs of the areas whose current package no longer matches their layers."""
    latest = session.scalars(
        select(MapPackage).where(MapPackage.superseded_at.is_(None)).order_by(MapPackage.area_id)
    ).all()
    return [session.get(Area, p.area_id).slug for p in latest if is_stale(session, p)]
