"""Map files as parks send them, written with GDAL (pyogrio): GeoJSON, zipped Shapefiles in any
CRS, GeoPackages with several layers, KML; and a real Shapefile of wilderness areas, also
rewritten in each format (edited or not)."""

from __future__ import annotations

import io
import itertools
import json
import warnings
import zipfile
from pathlib import Path

import numpy as np
import shapely
from pyogrio.raw import read, write
from pyproj import Transformer
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

_serial = itertools.count()


def geojson(features: list[tuple[dict | None, dict]], name: str | None = None) -> bytes:
    body = {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "geometry": g, "properties": p} for g, p in features],
    }
    if name:
        body["name"] = name
    return json.dumps(body).encode()


def _write(
    path: Path,
    geometries: list[BaseGeometry],
    fields: dict[str, list],
    crs: str | None,
    driver: str,
    layer: str | None = None,
    geometry_type: str = "Unknown",
) -> None:
    wkb = np.array([shapely.to_wkb(g) for g in geometries], dtype=object)
    write(
        str(path),
        wkb,
        [np.array(v, dtype=object) for v in fields.values()],
        fields=list(fields),
        geometry_type=geometry_type,
        crs=crs,
        driver=driver,
        layer=layer,
    )


def reproject(geometry: BaseGeometry, crs: str) -> BaseGeometry:
    transformer = Transformer.from_crs(4326, crs, always_xy=True)
    return shapely.transform(geometry, lambda xy: np.column_stack(transformer.transform(*xy.T)))


def zipped_shapefile(
    tmp: Path, stem: str, geometries, fields, crs: str | None, geometry_type: str
) -> bytes:
    folder = tmp / f"shp-{stem}"
    folder.mkdir()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "'crs' was not provided")  # on purpose, when None
        _write(
            folder / f"{stem}.shp",
            geometries,
            fields,
            crs,
            "ESRI Shapefile",
            geometry_type=geometry_type,
        )
    if crs is None:
        (folder / f"{stem}.prj").unlink(missing_ok=True)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for f in sorted(folder.iterdir()):
            zf.write(f, f.name)
    return buffer.getvalue()


def geopackage(tmp: Path, layers: dict[str, tuple[list, dict]]) -> bytes:
    path = tmp / "park.gpkg"
    for layer, (geometries, fields) in layers.items():
        _write(path, geometries, fields, "EPSG:4326", "GPKG", layer=layer)
    return path.read_bytes()


def kml(folder: str, placemarks: list[tuple[str, float, float]]) -> bytes:
    marks = "".join(
        f"<Placemark><name>{name}</name><Point><coordinates>{lon},{lat},1200</coordinates>"
        "</Point></Placemark>"
        for name, lon, lat in placemarks
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2">'
        f"<Document><Folder><name>{folder}</name>{marks}</Folder></Document></kml>"
    ).encode()


WILDERNESS = Path(__file__).parent / "data" / "coutwildrnp.zip"  # see data/README.md
FORMATS = {"shp": "ESRI Shapefile", "gpkg": "GPKG", "geojson": "GeoJSON", "kml": "KML"}


def wilderness() -> tuple[list[BaseGeometry], dict[str, list]]:
    """The 67 wilderness polygons of the real Shapefile, with their fields (no id among them)."""
    meta, _fids, wkbs, columns = read(f"/vsizip/{WILDERNESS}/coutwildrnp.shp")
    fields = {str(name): list(column) for name, column in zip(meta["fields"], columns, strict=True)}
    return [shapely.from_wkb(w) for w in wkbs], fields


def written(tmp: Path, fmt: str, geometries, fields: dict[str, list]) -> tuple[str, bytes]:
    """Features as GDAL writes them in `fmt` (a zipped Shapefile for 'shp'), keeping each
    field's type: (file name, bytes). The source layer is 'coutwildrnp', as in the original."""
    folder = tmp / f"{fmt}-{next(_serial)}"
    folder.mkdir()
    stem = "coutwildrnp"
    path = folder / f"{stem}.{fmt}"
    arrays = [_typed(values) for values in fields.values()]
    wkb = np.array([shapely.to_wkb(g) for g in geometries], dtype=object)
    write(
        str(path),
        wkb,
        arrays,
        fields=list(fields),
        geometry_type="Polygon",
        crs="EPSG:4326",
        driver=FORMATS[fmt],
        layer=stem,
    )
    if fmt != "shp":
        return path.name, path.read_bytes()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for f in sorted(folder.iterdir()):
            zf.write(f, f.name)
    return f"{stem}.zip", buffer.getvalue()


def _typed(values: list) -> np.ndarray:
    array = np.asarray(values)
    return array.astype(object) if array.dtype.kind in "UO" else array


def moved_vertex(polygon, by: float = 0.002):
    """The polygon with its second outer vertex moved `by` degrees north-east."""
    ring = np.array(polygon.exterior.coords)
    ring[1] += by
    moved = Polygon(ring, [hole.coords for hole in polygon.interiors])
    assert moved.is_valid, shapely.is_valid_reason(moved)
    return moved
