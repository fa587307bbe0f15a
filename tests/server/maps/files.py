"""Map files as parks send them, written with GDAL (pyogrio): GeoJSON, zipped Shapefiles in any
CRS, GeoPackages with several layers, KML."""

from __future__ import annotations

import io
import json
import warnings
import zipfile
from pathlib import Path

import numpy as np
import shapely
from pyogrio.raw import write
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry


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
