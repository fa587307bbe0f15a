"""Geography of the fictional demo park, Mto Mweusi National Park: boundary, zones, map features
and patrol routes, as Shapely geometries in WGS 84 lon/lat. Invented; no real park's outline."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

import shapely
from pyproj import Transformer
from shapely import set_precision
from shapely.geometry import LineString, MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry

AREA_SLUG = "demo"
AREA_NAME = "Mto Mweusi National Park"
AREA_TIMEZONE = "Africa/Dar_es_Salaam"
UTM = "EPSG:32737"  # UTM zone 37S, metres, for the buffer
PRECISION = 1e-6

_BOUNDARY = [
    (37.445, -3.300),
    (37.500, -3.288),
    (37.560, -3.296),
    (37.610, -3.285),
    (37.665, -3.292),
    (37.720, -3.300),
    (37.755, -3.330),
    (37.760, -3.380),
    (37.748, -3.425),
    (37.755, -3.470),
    (37.725, -3.505),
    (37.670, -3.512),
    (37.610, -3.500),
    (37.560, -3.508),
    (37.505, -3.498),
    (37.462, -3.480),
    (37.440, -3.440),
    (37.452, -3.395),
    (37.438, -3.350),
    (37.445, -3.300),
]
_ZONES = [
    (
        "Northern Plains",
        "management",
        [(37.470, -3.305), (37.720, -3.310), (37.720, -3.345), (37.470, -3.345)],
    ),
    (
        "Mweusi River Woodland",
        "management",
        [(37.470, -3.350), (37.598, -3.350), (37.598, -3.475), (37.480, -3.475)],
    ),
    (
        "Eastern Hills",
        "management",
        [(37.652, -3.350), (37.740, -3.350), (37.740, -3.480), (37.652, -3.480)],
    ),
    (
        "Rhino Sanctuary",
        "intensive_protection",
        [(37.603, -3.390), (37.647, -3.390), (37.647, -3.460), (37.603, -3.460)],
    ),
]
_POSTS = [
    ("Mweusi HQ", "hq", 1, (37.530, -3.362)),
    ("Kaskazini Outpost", "outpost", 2, (37.700, -3.322)),
    ("Kusini Outpost", "outpost", 3, (37.620, -3.485)),
    ("Magharibi Outpost", "outpost", 4, (37.470, -3.440)),
]
_WATER = [
    ("Simba Dam", "dam", False, (37.560, -3.330)),
    ("Mweusi Spring", "spring", False, (37.545, -3.420)),
    ("Kifaru Pan", "dam", True, (37.625, -3.430)),
    ("Hills Borehole", "borehole", False, (37.700, -3.440)),
    ("Plains Pan", "dam", True, (37.650, -3.320)),
    ("South Spring", "spring", True, (37.580, -3.490)),
]
_ROADS = [
    (
        "Main Road",
        "gravel",
        False,
        [
            (37.441, -3.402),
            (37.500, -3.392),
            (37.530, -3.362),
            (37.600, -3.375),
            (37.650, -3.372),
            (37.700, -3.395),
            (37.757, -3.405),
        ],
    ),
    (
        "HQ–Kaskazini Track",
        "track",
        True,
        [(37.530, -3.362), (37.580, -3.335), (37.640, -3.330), (37.700, -3.322)],
    ),
    (
        "Kusini Track",
        "track",
        True,
        [(37.600, -3.375), (37.600, -3.420), (37.612, -3.460), (37.620, -3.485)],
    ),
    ("Magharibi Track", "track", True, [(37.500, -3.392), (37.485, -3.420), (37.470, -3.440)]),
    (
        "Hills Loop",
        "track",
        True,
        [
            (37.700, -3.395),
            (37.715, -3.430),
            (37.700, -3.440),
            (37.680, -3.465),
            (37.665, -3.440),
            (37.700, -3.395),
        ],
    ),
]
_RIVER = [
    (37.515, -3.292),
    (37.525, -3.315),
    (37.540, -3.335),
    (37.535, -3.360),
    (37.548, -3.385),
    (37.545, -3.415),
    (37.560, -3.440),
    (37.565, -3.470),
    (37.580, -3.502),
]


@dataclass(frozen=True)
class DemoZone:
    name: str
    kind: str
    geometry: MultiPolygon


@dataclass(frozen=True)
class DemoFeature:
    layer: str
    name: str
    geometry: BaseGeometry
    properties: dict = field(default_factory=dict)


def _round(geometry: BaseGeometry) -> BaseGeometry:
    return set_precision(geometry, PRECISION)


def boundary() -> MultiPolygon:
    return MultiPolygon([Polygon(_BOUNDARY)])


def zones() -> list[DemoZone]:
    return [DemoZone(name, kind, MultiPolygon([Polygon(ring)])) for name, kind, ring in _ZONES]


def _inside(geometry: BaseGeometry) -> BaseGeometry:
    return _round(geometry.intersection(boundary()))


def _boundary_buffer(width_m: float = 1000.0) -> BaseGeometry:
    to_utm = Transformer.from_crs("EPSG:4326", UTM, always_xy=True)
    to_lonlat = Transformer.from_crs(UTM, "EPSG:4326", always_xy=True)
    park = shapely.transform(boundary(), lambda x, y: to_utm.transform(x, y), interleaved=False)
    band = park.difference(park.buffer(-width_m))
    return _round(
        shapely.transform(band, lambda x, y: to_lonlat.transform(x, y), interleaved=False)
    )


def features() -> list[DemoFeature]:
    result = [
        DemoFeature(
            "road", name, _inside(LineString(line)), {"surface": surface, "seasonal": seasonal}
        )
        for name, surface, seasonal, line in _ROADS
    ]
    result.append(
        DemoFeature("river", "Mweusi River", _inside(LineString(_RIVER)), {"perennial": True})
    )
    result += [
        DemoFeature("ranger_post", name, Point(xy), {"kind": kind, "radio_channel": channel})
        for name, kind, channel, xy in _POSTS
    ]
    result += [
        DemoFeature("water_point", name, Point(xy), {"kind": kind, "seasonal": seasonal})
        for name, kind, seasonal, xy in _WATER
    ]
    result.append(
        DemoFeature(
            "boundary_buffer", "Boundary buffer (1 km)", _boundary_buffer(), {"width_m": 1000}
        )
    )
    return result


def patrol_routes() -> list[list[tuple[float, float]]]:
    """Three patrol loops, each leaving from a ranger post and returning to it."""
    rng = random.Random(7)  # noqa: S311 (a fixed demo, not a secret)
    park = boundary()
    routes = []
    for (_, _, _, (lon, lat)), radius, turn in zip(
        _POSTS[:3], (0.035, 0.03, 0.028), (1, -1, 1), strict=False
    ):
        centre = (
            lon + turn * radius * 0.6,
            lat - radius * 0.5 if lat > -3.4 else lat + radius * 0.6,
        )
        start_angle = math.atan2(lat - centre[1], lon - centre[0])
        route = [(lon, lat)]
        for step in range(1, 40):
            angle = start_angle + turn * 2 * math.pi * step / 40
            r = radius * (0.8 + 0.4 * rng.random())
            point = (
                round(centre[0] + r * math.cos(angle), 6),
                round(centre[1] + r * math.sin(angle), 6),
            )
            if park.contains(Point(point)):
                route.append(point)
        route.append((lon, lat))
        routes.append(route)
    return routes
