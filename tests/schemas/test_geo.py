"""GeoJSON geometry on the wire: refused with a reason and a place, never repaired."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from marshmallow import Schema, ValidationError

from schemas.geo import Geometry, GeometryError, parse_geometry, to_geojson


def _square(x0=0.0, y0=0.0, size=1.0):
    return [[x0, y0], [x0 + size, y0], [x0 + size, y0 + size], [x0, y0 + size], [x0, y0]]


@pytest.mark.parametrize(
    ("geometry", "reason", "pointer"),
    [
        ({"type": "Point", "coordinates": [200, 0]}, "longitude 200 is outside", "/coordinates/0"),
        ({"type": "Point", "coordinates": [0, -91]}, "latitude -91 is outside", "/coordinates/1"),
        ({"type": "Point", "coordinates": [math.nan, 0]}, "finite", "/coordinates/0"),
        ({"type": "Point", "coordinates": [math.inf, 0]}, "finite", "/coordinates/0"),
        ({"type": "Point", "coordinates": ["1", 0]}, "numbers", "/coordinates/0"),
        ({"type": "Point", "coordinates": [True, 0]}, "numbers", "/coordinates/0"),
        ({"type": "Point", "coordinates": [1]}, "position", "/coordinates"),
        ({"type": "LineString", "coordinates": [[0, 0]]}, "at least 2", "/coordinates"),
        (
            {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]},
            "not closed",
            "/coordinates/0",
        ),
        (
            {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]},
            "Self-intersection",
            "",
        ),
        ({"type": "Circle", "coordinates": [0, 0]}, "unsupported geometry type", "/type"),
        ({"type": "Point"}, "coordinates are missing", "/coordinates"),
        ({"type": "Point", "coordinates": [0, 0], "crs": "x"}, "unknown members", "/crs"),
        (
            {
                "type": "MultiPolygon",
                "coordinates": [[_square()], [[[5, 5], [6, 5], [6, 6], [5, 6]]]],
            },
            "not closed",
            "/coordinates/1/0",
        ),
    ],
)
def test_bad_geometry_is_refused_with_reason_and_place(geometry, reason, pointer):
    with pytest.raises(GeometryError) as error:
        parse_geometry(geometry)
    assert reason in str(error.value)
    assert error.value.pointer == pointer


def test_vertex_cap():
    line = {"type": "LineString", "coordinates": [[i / 1000, 0] for i in range(101)]}
    with pytest.raises(GeometryError, match="101 vertices exceed the limit of 100"):
        parse_geometry(line, max_vertices=100)


def test_type_restriction():
    with pytest.raises(GeometryError, match="Point is not allowed here; expected Polygon"):
        parse_geometry({"type": "Point", "coordinates": [0, 0]}, allowed=("Polygon",))


def test_field_reports_the_pointer():
    class Thing(Schema):
        where = Geometry(allowed=("Point",))

    with pytest.raises(ValidationError) as error:
        Thing().load({"where": {"type": "Point", "coordinates": [181, 0]}})
    assert error.value.messages == {
        "where": ["longitude 181 is outside [-180, 180] at /coordinates/0"]
    }


lon = st.floats(min_value=-180, max_value=180, allow_nan=False)
lat = st.floats(min_value=-90, max_value=90, allow_nan=False)


@given(lon, lat)
def test_any_point_in_range_round_trips_exactly(x, y):
    geometry = {"type": "Point", "coordinates": [x, y]}
    assert to_geojson(parse_geometry(geometry))["coordinates"] == (x, y)


@given(st.floats(allow_nan=True, allow_infinity=True), lat)
def test_no_out_of_range_longitude_gets_through(x, y):
    geometry = {"type": "Point", "coordinates": [x, y]}
    if math.isfinite(x) and -180 <= x <= 180:
        parse_geometry(geometry)
    else:
        with pytest.raises(GeometryError):
            parse_geometry(geometry)
