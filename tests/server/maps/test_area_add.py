"""`rangersync area add`: a park from its boundary file, in whatever CRS the file declares,
validated as layer imports are, refused with the same reasons."""

from __future__ import annotations

from click.testing import CliRunner
from shapely import wkb
from shapely.geometry import Polygon, box
from sqlalchemy import text

from server.cli import main
from tests.server.maps.files import geojson, reproject, zipped_shapefile

# A park on the Tanzanian plains, drawn in UTM zone 37S as a park's GIS office would send it.
PARK = box(37.40, -3.60, 37.80, -3.20)
UTM_37S = "EPSG:32737"


def _add(tmp_path, monkeypatch, fresh_engine, slug: str, name: str, data: bytes) -> object:
    monkeypatch.setenv("DATABASE_URL", fresh_engine.url.render_as_string(hide_password=False))
    path = tmp_path / name
    path.write_bytes(data)
    return CliRunner().invoke(
        main,
        [
            "area",
            "add",
            slug,
            "--name",
            "Mto Park",
            "--timezone",
            "Africa/Dar_es_Salaam",
            "--boundary",
            str(path),
        ],
    )


def test_a_park_from_a_shapefile_in_a_projected_crs(
    tmp_path, monkeypatch, fresh_engine, committed_db
):
    data = zipped_shapefile(
        tmp_path, "boundary", [reproject(PARK, UTM_37S)], {"name": ["Mto"]}, UTM_37S, "Polygon"
    )
    answer = _add(tmp_path, monkeypatch, fresh_engine, "mto", "boundary.zip", data)
    assert answer.exit_code == 0, answer.output
    assert answer.output.strip() == "mto"  # the new slug, and nothing else
    row = committed_db.execute(
        text("SELECT name, timezone, ST_AsBinary(boundary) AS b FROM areas WHERE slug = 'mto'")
    ).one()
    assert (row.name, row.timezone) == ("Mto Park", "Africa/Dar_es_Salaam")
    boundary = wkb.loads(bytes(row.b))
    assert boundary.geom_type == "MultiPolygon"
    assert boundary.symmetric_difference(PARK).area < 1e-9  # back in WGS 84, where it was drawn
    again = _add(tmp_path, monkeypatch, fresh_engine, "mto", "boundary.zip", data)
    assert again.exit_code == 1 and "exists" in again.output


def test_an_invalid_boundary_is_refused_with_the_importers_reason(
    tmp_path, monkeypatch, fresh_engine, committed_db
):
    bowtie = Polygon([(37.4, -3.6), (37.8, -3.2), (37.8, -3.6), (37.4, -3.2), (37.4, -3.6)])
    data = geojson([(bowtie.__geo_interface__, {"name": "crossed"})])
    answer = _add(tmp_path, monkeypatch, fresh_engine, "bowtie", "boundary.geojson", data)
    assert answer.exit_code == 1
    assert "invalid-geometry" in answer.output and "Self-intersection" in answer.output
    assert "Traceback" not in answer.output
    count = committed_db.execute(text("SELECT count(*) FROM areas WHERE slug = 'bowtie'"))
    assert count.scalar_one() == 0


def test_a_shapefile_without_its_prj_and_a_bad_zone_are_refused(
    tmp_path, monkeypatch, fresh_engine
):
    no_crs = zipped_shapefile(
        tmp_path, "nocrs", [reproject(PARK, UTM_37S)], {"name": ["Mto"]}, None, "Polygon"
    )
    answer = _add(tmp_path, monkeypatch, fresh_engine, "nocrs", "nocrs.zip", no_crs)
    assert answer.exit_code == 1 and "missing-crs" in answer.output
    good = geojson([(PARK.__geo_interface__, {})])
    path = tmp_path / "park.geojson"
    path.write_bytes(good)
    answer = CliRunner().invoke(
        main,
        [
            "area",
            "add",
            "mars",
            "--name",
            "M",
            "--timezone",
            "Mars/Olympus",
            "--boundary",
            str(path),
        ],
    )
    assert answer.exit_code == 1 and "unknown time zone" in answer.output
    answer = CliRunner().invoke(
        main,
        ["area", "add", "Bad Slug", "--name", "M", "--timezone", "UTC", "--boundary", str(path)],
    )
    assert answer.exit_code == 1 and "slug" in answer.output
