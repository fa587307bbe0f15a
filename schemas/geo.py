"""GeoJSON (RFC 7946) geometry on the wire, Shapely geometry inside, and the checks between them.

Shapely is lenient where we must not be: it accepts longitude 200, NaN coordinates, and closes an
open polygon ring without a word. Every such input is refused here with the reason and the place,
never repaired: a ranger's position is evidence, and evidence is not silently changed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import shapely
from marshmallow import ValidationError, fields
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

GEOMETRY_TYPES = (
    "Point",
    "MultiPoint",
    "LineString",
    "MultiLineString",
    "Polygon",
    "MultiPolygon",
)
DEFAULT_MAX_VERTICES = 100_000


class GeometryError(ValueError):
    """A geometry that cannot be stored as sent; `pointer` is a JSON pointer into the geometry."""

    def __init__(self, message: str, pointer: str = "") -> None:
        super().__init__(message)
        self.pointer = pointer


def _position(value: Any, where: str) -> None:
    if not isinstance(value, list | tuple) or len(value) not in (2, 3):
        raise GeometryError("a position is [longitude, latitude] or [lon, lat, altitude]", where)
    for i, number in enumerate(value):
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise GeometryError("coordinates must be numbers", f"{where}/{i}")
        if not math.isfinite(number):
            raise GeometryError("coordinates must be finite numbers", f"{where}/{i}")
    lon, lat = value[0], value[1]
    if not -180 <= lon <= 180:
        raise GeometryError(f"longitude {lon} is outside [-180, 180]", f"{where}/0")
    if not -90 <= lat <= 90:
        raise GeometryError(f"latitude {lat} is outside [-90, 90]", f"{where}/1")


def _positions(value: Any, where: str, minimum: int) -> int:
    if not isinstance(value, list | tuple):
        raise GeometryError("expected an array of positions", where)
    if len(value) < minimum:
        raise GeometryError(f"needs at least {minimum} positions, got {len(value)}", where)
    for i, position in enumerate(value):
        _position(position, f"{where}/{i}")
    return len(value)


def _ring(value: Any, where: str) -> int:
    count = _positions(value, where, 4)
    if list(value[0]) != list(value[-1]):
        raise GeometryError("polygon ring is not closed: first and last positions differ", where)
    return count


def _polygon(value: Any, where: str) -> int:
    if not isinstance(value, list | tuple) or not value:
        raise GeometryError("a polygon is a non-empty array of linear rings", where)
    return sum(_ring(ring, f"{where}/{i}") for i, ring in enumerate(value))


def _point(value: Any, where: str) -> int:
    _position(value, where)
    return 1


def _many(value: Any, where: str, one) -> int:
    if not isinstance(value, list | tuple) or not value:
        raise GeometryError("expected a non-empty array", where)
    return sum(one(part, f"{where}/{i}") for i, part in enumerate(value))


_CHECKS = {
    "Point": _point,
    "MultiPoint": lambda c, w: _positions(c, w, 1),
    "LineString": lambda c, w: _positions(c, w, 2),
    "MultiLineString": lambda c, w: _many(c, w, lambda p, x: _positions(p, x, 2)),
    "Polygon": _polygon,
    "MultiPolygon": lambda c, w: _many(c, w, _polygon),
}


def parse_geometry(
    value: Any,
    allowed: Sequence[str] = GEOMETRY_TYPES,
    max_vertices: int = DEFAULT_MAX_VERTICES,
) -> BaseGeometry:
    """A GeoJSON geometry object → a valid Shapely geometry, or GeometryError saying why not."""
    if not isinstance(value, dict):
        raise GeometryError("a geometry is a GeoJSON object")
    kind = value.get("type")
    if kind not in GEOMETRY_TYPES:
        raise GeometryError(f"unsupported geometry type {kind!r}", "/type")
    if kind not in allowed:
        raise GeometryError(f"{kind} is not allowed here; expected {' or '.join(allowed)}", "/type")
    unknown = set(value) - {"type", "coordinates", "bbox"}
    if unknown:
        raise GeometryError(f"unknown members {sorted(unknown)}", f"/{sorted(unknown)[0]}")
    if "coordinates" not in value:
        raise GeometryError("coordinates are missing", "/coordinates")
    vertices = _CHECKS[kind](value["coordinates"], "/coordinates")
    if vertices > max_vertices:
        raise GeometryError(f"{vertices} vertices exceed the limit of {max_vertices}")
    geometry = shape(value)
    if not geometry.is_valid:
        raise GeometryError(f"invalid geometry: {shapely.is_valid_reason(geometry)}")
    return geometry


def to_geojson(geometry: BaseGeometry | None) -> dict[str, Any] | None:
    if geometry is None:
        return None
    return shapely.geometry.mapping(geometry)


class Geometry(fields.Field):
    """A GeoJSON geometry field: Shapely inside, checked strictly on the way in."""

    def __init__(
        self,
        allowed: Sequence[str] = GEOMETRY_TYPES,
        max_vertices: int = DEFAULT_MAX_VERTICES,
        **kwargs: Any,
    ) -> None:
        self.allowed = tuple(allowed)
        self.max_vertices = max_vertices
        kwargs.setdefault("metadata", {})
        kwargs["metadata"] = {
            "type": "object",
            "description": f"GeoJSON geometry ({', '.join(self.allowed)}), WGS 84 lon/lat",
            **kwargs["metadata"],
        }
        super().__init__(**kwargs)

    def _serialize(self, value: BaseGeometry | None, attr: Any, obj: Any, **kwargs: Any):
        return to_geojson(value)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> BaseGeometry:
        try:
            return parse_geometry(value, self.allowed, self.max_vertices)
        except GeometryError as error:
            where = f" at {error.pointer}" if error.pointer else ""
            raise ValidationError(f"{error}{where}") from error
