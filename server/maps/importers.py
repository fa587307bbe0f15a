"""Reading map files (GeoJSON, zipped Shapefile, GeoPackage, KML/KMZ) into checked WGS 84
features, with every refusal explained: no geometry, wrong type, missing CRS, out of range,
invalid (with the reason and where). Nothing here touches the database.

Files are read by GDAL through pyogrio, but only after their first bytes say they are one of the
four formats: GDAL also opens formats (VRT, for one) that could read files on this server.
Invalid geometries are repaired (shapely.make_valid) only when asked, and each repair is listed.
"""

from __future__ import annotations

import math
import re
import tempfile
import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from io import BytesIO
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
import pyogrio.errors
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from server.core.errors import Invalid

MAX_FEATURES = 100_000
# What a zip may unpack to (a zipped Shapefile of 100 000 polygons is well under it): the sizes
# are read from the zip's directory, before GDAL opens a byte of it.
MAX_UNPACKED_BYTES = 512 * 1024 * 1024
DRIVERS = {"GeoJSON", "ESRI Shapefile", "GPKG", "KML", "LIBKML"}
FAMILIES = {
    "Point": "point",
    "MultiPoint": "point",
    "LineString": "line",
    "MultiLineString": "line",
    "Polygon": "polygon",
    "MultiPolygon": "polygon",
}
# Fields KML readers add to every placemark; they describe rendering, not the feature.
KML_NOISE = {
    "id",
    "timestamp",
    "begin",
    "end",
    "altitudemode",
    "tessellate",
    "extrude",
    "visibility",
    "draworder",
    "icon",
    "snippet",
}
IGNORED_FIELDS = {"layer", "version"}  # RangerSync's own, written by its GeoJSON export
_LOCATION = re.compile(r"\[\s*(-?[\d.eE+-]+)\s+(-?[\d.eE+-]+)\s*\]")


@dataclass
class Candidate:
    target_layer: str
    source_layer: str
    index: int
    source_id: str | None
    feature_id: uuid.UUID | None
    name: str | None
    properties: dict[str, Any]
    geometry: BaseGeometry
    kind: str | None = None  # a zone's kind, when the target is the zones layer

    @property
    def family(self) -> str:
        return FAMILIES[self.geometry.geom_type]


@dataclass
class Rejection:
    source_layer: str
    index: int
    source_id: str | None
    reason: str
    detail: str
    location: list[float] | None = None


@dataclass
class Repair:
    source_layer: str
    index: int
    detail: str


@dataclass
class SourceRead:
    candidates: list[Candidate] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    repaired: list[Repair] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    fields: dict[str, list[str]] = field(default_factory=dict)  # source layer → its field names


def sniff(data: bytes, filename: str) -> str:
    """The file's format from its first bytes: 'geojson', 'zip', 'gpkg' or 'kml'."""
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"{"):
        return "geojson"
    if head.startswith(b"SQLite format 3\x00"):
        return "gpkg"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if head.startswith(b"<") and b"<kml" in data[:4096]:
        return "kml"
    raise Invalid(
        f"{filename!r} is not GeoJSON, a zipped Shapefile, a GeoPackage or KML/KMZ",
        errors={"file": ["unsupported format"]},
    )


def _check_xml(data: bytes) -> None:
    """KML without DTDs: entity declarations are how an XML file explodes or reads local files."""
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise Invalid(
            "KML with a DOCTYPE or entity declarations is not accepted",
            errors={"file": ["DTD in KML"]},
        )


def _check_zip(data: bytes) -> str:
    """A zipped Shapefile (.shp with .shx and .dbf) or a KMZ; nothing else goes to GDAL."""
    try:
        archive = zipfile.ZipFile(BytesIO(data))
        names = archive.namelist()
    except zipfile.BadZipFile as error:
        raise Invalid(f"a broken zip file: {error}", errors={"file": ["bad zip"]}) from None
    unpacked = sum(info.file_size for info in archive.infolist())
    if unpacked > MAX_UNPACKED_BYTES:
        raise Invalid(
            f"the zip unpacks to {unpacked:,} bytes; an import unpacks to at most "
            f"{MAX_UNPACKED_BYTES:,}: split the file",
            errors={"file": ["unpacks too large"]},
        )
    lower = [n.lower() for n in names]
    if any(n.endswith(".kml") for n in lower) and not any(n.endswith(".shp") for n in lower):
        for name in names:
            if name.lower().endswith(".kml"):
                with archive.open(name) as kml:
                    _check_xml(kml.read(64 * 1024 * 1024))
        return ".kmz"
    if not any(n.endswith(".shp") for n in lower):
        raise Invalid("the zip holds no .shp file", errors={"file": ["no shapefile in the zip"]})
    allowed = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx", ".xml", "/")
    strangers = [n for n in names if not n.lower().endswith(allowed)]
    if strangers:
        raise Invalid(
            f"the zip holds files that are not part of a Shapefile: {strangers[:5]}",
            errors={"file": ["unexpected files in the zip"]},
        )
    return ".zip"


def _stem(filename: str) -> str:
    stem = Path(filename).name.rsplit(".", 1)[0]
    return re.sub(r"[^A-Za-z0-9_-]+", "_", stem)[:60] or "upload"


def layer_name_from(source: str) -> str:
    name = re.sub(r"[^a-z0-9]+", "_", source.lower()).strip("_")[:32]
    if not name or not name[0].isalpha():
        raise Invalid(
            f"cannot make a layer name from {source!r}: name the target layer",
            errors={"layer": ["required for this file"]},
        )
    return name


def read_source(
    data: bytes, filename: str, *, layer: str | None = None, repair: bool = False
) -> SourceRead:
    kind = sniff(data, filename)
    if kind == "kml":
        _check_xml(data)
    suffix = {"geojson": ".geojson", "gpkg": ".gpkg", "kml": ".kml"}.get(kind) or _check_zip(data)
    result = SourceRead()
    with tempfile.TemporaryDirectory(prefix="rangersync-import-") as tmp:
        path = Path(tmp) / (_stem(filename) + suffix)
        path.write_bytes(data)
        try:
            info_layers = pyogrio.list_layers(path)
            _check_feature_count(path, [str(name) for name, _type in info_layers])
            for source_layer, _type in info_layers:
                target = layer or layer_name_from(str(source_layer))
                _read_layer(path, str(source_layer), target, repair, result)
        except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as error:
            raise Invalid(
                f"cannot read {filename!r}: {error}", errors={"file": ["unreadable"]}
            ) from None
    if len(result.candidates) + len(result.rejected) > MAX_FEATURES:
        raise Invalid(
            f"more than {MAX_FEATURES} features in one import: split the file",
            errors={"file": ["too many features"]},
        )
    return result


def _check_feature_count(path: Path, layers: list[str]) -> None:
    """The features the file's layers hold, from their headers (a Shapefile's .shx, a
    GeoPackage's contents), refused past MAX_FEATURES before any is read."""
    total = 0
    for source_layer in layers:
        info = pyogrio.read_info(path, layer=source_layer, force_feature_count=True)
        total += max(info["features"], 0)
        if total > MAX_FEATURES:
            raise Invalid(
                f"the file holds at least {total:,} features; one import takes at most "
                f"{MAX_FEATURES:,}: split the file",
                errors={"file": ["too many features"]},
            )


def _read_layer(path: Path, source_layer: str, target: str, repair: bool, out: SourceRead):
    info = pyogrio.read_info(path, layer=source_layer)
    if info["driver"] not in DRIVERS:
        raise Invalid(f"{info['driver']} files are not accepted", errors={"file": ["format"]})
    meta, _fids, geometries, columns = pyogrio.raw.read(
        path, layer=source_layer, max_features=MAX_FEATURES + 1
    )
    names = [str(n) for n in meta["fields"]]
    out.fields[source_layer] = names
    kinds = meta.get("ogr_types") or [""] * len(names)
    noise = KML_NOISE if info["driver"] in ("KML", "LIBKML") else set()
    transformer, crs_problem = _transformer(meta.get("crs"))
    z_dropped = 0
    for index, wkb in enumerate(geometries):
        values = {
            n: _value(col[index], kind) for n, col, kind in zip(names, columns, kinds, strict=True)
        }
        source_id = _source_id(values)
        reject = _rejecter(out, source_layer, index, source_id)
        if crs_problem:
            reject("missing-crs", crs_problem)
            continue
        if wkb is None:
            reject("no-geometry", "the feature has no geometry")
            continue
        geometry = shapely.from_wkb(wkb)
        if geometry.geom_type not in FAMILIES:
            reject("wrong-type", f"{geometry.geom_type} is not a point, line or polygon type")
            continue
        if geometry.is_empty:
            reject("empty-geometry", "the geometry is empty")
            continue
        if shapely.has_z(geometry):
            geometry, z_dropped = shapely.force_2d(geometry), z_dropped + 1
        if transformer is not None:
            geometry = shapely.transform(geometry, transformer.transform, interleaved=False)
        problem = _range_problem(geometry)
        if problem:
            reject("out-of-range", problem)
            continue
        if not geometry.is_valid:
            reason = shapely.is_valid_reason(geometry)
            if not repair:
                reject("invalid-geometry", reason, _location(reason))
                continue
            fixed = _repaired(geometry)
            if fixed is None:
                reject(
                    "invalid-geometry",
                    f"{reason}; nothing of its type survives repair",
                    _location(reason),
                )
                continue
            out.repaired.append(
                Repair(
                    source_layer,
                    index,
                    f"{reason}: made valid ({geometry.geom_type} → {fixed.geom_type})",
                )
            )
            geometry = fixed
        values.pop("id", None)
        feature_id = None if noise else _uuid(source_id)
        name = _pop_name(values)
        # A null field is an absent one: GDAL gives every feature of a layer every field the
        # layer has (a GeoJSON property on one feature becomes a null on all the others).
        properties = {
            k: v
            for k, v in values.items()
            if k.lower() not in noise and k not in IGNORED_FIELDS and v is not None
        }
        if feature_id is None and source_id is not None and not noise:
            properties["source_id"] = source_id  # an id that is not ours, kept as it came
        out.candidates.append(
            Candidate(
                target, source_layer, index, source_id, feature_id, name, properties, geometry
            )
        )
    if z_dropped:
        out.notes.append(
            f"{source_layer}: altitudes dropped from {z_dropped} features (map layers are 2D)"
        )


def _rejecter(out: SourceRead, source_layer: str, index: int, source_id: str | None):
    def reject(reason: str, detail: str, location: list[float] | None = None) -> None:
        out.rejected.append(Rejection(source_layer, index, source_id, reason, detail, location))

    return reject


def _transformer(crs_text: str | None) -> tuple[Transformer | None, str | None]:
    if not crs_text:
        return None, "the file has no coordinate reference system (a Shapefile needs its .prj)"
    try:
        crs = CRS.from_user_input(crs_text)
    except CRSError as error:
        return None, f"unknown coordinate reference system: {error}"
    if crs.equals(CRS.from_epsg(4326), ignore_axis_order=True):
        return None, None
    return Transformer.from_crs(crs, 4326, always_xy=True), None


def _range_problem(geometry: BaseGeometry) -> str | None:
    coords = shapely.get_coordinates(geometry)
    if not np.isfinite(coords).all():
        return "coordinates are not finite numbers"
    west, south, east, north = geometry.bounds
    if west < -180 or east > 180 or south < -90 or north > 90:
        return f"bounds {[round(v, 6) for v in geometry.bounds]} are outside lon/lat range"
    return None


def _repaired(geometry: BaseGeometry) -> BaseGeometry | None:
    """make_valid, keeping only parts of the original's family (a polygon stays areal)."""
    family = FAMILIES[geometry.geom_type]
    fixed = shapely.make_valid(geometry)
    parts = [p for p in getattr(fixed, "geoms", [fixed]) if FAMILIES.get(p.geom_type) == family]
    if not parts:
        return None
    merged = parts[0] if len(parts) == 1 else shapely.union_all(parts)
    return merged if merged.is_valid and not merged.is_empty else None


def _location(reason: str) -> list[float] | None:
    match = _LOCATION.search(reason)
    return [float(match.group(1)), float(match.group(2))] if match else None


def _value(value: Any, ogr_type: str) -> Any:
    if value is None:
        return None
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else str(value.astype("datetime64[ms]")) + "Z"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        if math.isnan(value):
            return None  # a missing number: GDAL hands nulls of numeric fields over as NaN
        if ogr_type.startswith("OFTInteger") and value.is_integer():
            return int(value)  # nulls made the column float; the field is an integer one
    if isinstance(value, bytes):
        return value.hex()
    return value


def _source_id(values: dict[str, Any]) -> str | None:
    value = values.get("id")
    return None if value is None else str(value)


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value is not None else None
    except ValueError:
        return None


def _pop_name(values: dict[str, Any]) -> str | None:
    for key in list(values):
        if key.lower() == "name":
            value = values.pop(key)
            return None if value is None else str(value)
    return None


def read_boundary(data: bytes, filename: str) -> MultiPolygon:
    """A park's boundary from any file the layer importer reads (GeoJSON, zipped Shapefile,
    GeoPackage, KML/KMZ), reprojected to WGS 84 and validated exactly as layer features are; its
    polygons together as one MultiPolygon. Refused, with the importer's reasons, when any
    feature is refused, when it holds something other than polygons, or nothing at all."""
    read = read_source(data, filename, layer="boundary")
    if read.rejected:
        errors = {f"{r.source_layer}#{r.index}": [f"{r.reason}: {r.detail}"] for r in read.rejected}
        first = read.rejected[0]
        raise Invalid(
            f"{filename}: the boundary is refused ({first.reason}: {first.detail})", errors=errors
        )
    polygons: list[Polygon] = []
    for candidate in read.candidates:
        if candidate.family != "polygon":
            raise Invalid(
                f"{filename}: a boundary is made of polygons; {candidate.source_layer}"
                f"#{candidate.index} is a {candidate.geometry.geom_type}",
                errors={"boundary": ["wrong-type"]},
            )
        geometry = candidate.geometry
        polygons.extend(geometry.geoms if isinstance(geometry, MultiPolygon) else [geometry])
    if not polygons:
        raise Invalid(f"{filename}: no polygon in the file", errors={"boundary": ["empty"]})
    boundary = MultiPolygon(polygons)
    if not boundary.is_valid:  # valid polygons that overlap each other: one area, merged
        merged = shapely.union_all(polygons)
        boundary = merged if isinstance(merged, MultiPolygon) else MultiPolygon([merged])
    return boundary
