"""Importing map files: each format, any CRS, a report of what was refused and why, explicit
repairs, previews that change nothing, and export → import round trips that change nothing."""

from __future__ import annotations

import uuid

import numpy as np
import pytest
import shapely
from click.testing import CliRunner
from geoalchemy2.shape import to_shape
from shapely.geometry import LineString, Point, Polygon, shape
from sqlalchemy import select, text

from server.areas.models import MapFeature
from server.cli import main
from server.core.errors import Invalid
from server.core.policy import SYSTEM
from server.maps.imports import import_file
from tests import factories
from tests.server.maps import files
from tests.server.maps import helpers as h

BOWTIE = Polygon([(37.10, -3.40), (37.12, -3.38), (37.12, -3.40), (37.10, -3.38), (37.10, -3.40)])


def features(db, area_id, layer):
    rows = db.scalars(
        select(MapFeature).where(
            MapFeature.area_id == area_id,
            MapFeature.layer == layer,
            MapFeature.deleted_at.is_(None),
        )
    ).all()
    return {f.name: f for f in rows}


def test_geojson_with_invalid_and_missing_geometries_is_reported_feature_by_feature(db):
    area = factories.area(db)
    data = files.geojson(
        [
            ({"type": "Point", "coordinates": [37.1, -3.4]}, {"name": "Dam", "depth_m": 4}),
            (None, {"name": "Nowhere"}),
            (shapely.geometry.mapping(BOWTIE), {"name": "Bowtie"}),
            ({"type": "GeometryCollection", "geometries": []}, {"name": "Collection"}),
            ({"type": "Point", "coordinates": [12.0, 45.0]}, {"name": "Venice"}),
        ]
    )
    report = import_file(db, SYSTEM, area.id, "water.geojson", data)
    assert (report.created, report.accepted) == (1, 1)
    reasons = {r.index: r.reason for r in report.rejected}
    assert reasons == {1: "no-geometry", 2: "invalid-geometry", 3: "wrong-type", 4: "outside-area"}
    bowtie = next(r for r in report.rejected if r.index == 2)
    assert "Self-intersection" in bowtie.detail
    assert bowtie.location == pytest.approx([37.11, -3.39])
    dam = features(db, area.id, "water")["Dam"]
    assert dam.properties == {"depth_m": 4} and dam.version == 1


def test_repair_only_when_asked_and_logged(db):
    area = factories.area(db)
    data = files.geojson([(shapely.geometry.mapping(BOWTIE), {"name": "Bowtie"})])
    assert import_file(db, SYSTEM, area.id, "z.geojson", data, layer="zones_x").created == 0
    report = import_file(db, SYSTEM, area.id, "z.geojson", data, layer="zones_x", repair=True)
    assert report.created == 1 and "Self-intersection" in report.repaired[0].detail
    stored = to_shape(features(db, area.id, "zones_x")["Bowtie"].geom)
    assert stored.is_valid and stored.geom_type == "MultiPolygon"
    assert stored.area == pytest.approx(0.0002)  # both lobes of the bowtie kept
    logged = db.execute(
        text(
            "SELECT details FROM audit_log WHERE action = 'map.import.repair'"
            " ORDER BY id DESC LIMIT 1"
        )
    ).scalar_one()
    assert "Self-intersection" in str(logged)


def test_a_utm_shapefile_is_reprojected_to_wgs84(db, tmp_path):
    area = factories.area(db)
    road = LineString([(37.05, -3.45), (37.10, -3.42), (37.20, -3.41)])
    posts = [Point(37.05, -3.45), Point(37.25, -3.35)]
    utm = "EPSG:32737"
    data = files.zipped_shapefile(
        tmp_path,
        "roads",
        [files.reproject(road, utm)],
        {"name": ["Spine"], "surface": ["gravel"]},
        utm,
        "LineString",
    )
    report = import_file(db, SYSTEM, area.id, "roads.zip", data)
    assert report.created == 1 and report.layers == {"roads": {"created": 1}}
    stored = to_shape(features(db, area.id, "roads")["Spine"].geom)
    assert shapely.equals_exact(stored, road, tolerance=1e-7)
    data = files.zipped_shapefile(
        tmp_path,
        "posts",
        [files.reproject(p, utm) for p in posts],
        {"name": ["A", "B"]},
        utm,
        "Point",
    )
    report = import_file(db, SYSTEM, area.id, "posts.zip", data, layer="ranger_post")
    assert report.created == 2, report
    assert to_shape(features(db, area.id, "ranger_post")["B"].geom).distance(posts[1]) < 1e-7


def test_a_shapefile_without_prj_is_refused_for_missing_crs(db, tmp_path):
    area = factories.area(db)
    data = files.zipped_shapefile(
        tmp_path, "posts", [Point(500000, 9620000)], {"name": ["X"]}, None, "Point"
    )
    report = import_file(db, SYSTEM, area.id, "posts.zip", data)
    assert report.accepted == 0
    assert [r.reason for r in report.rejected] == ["missing-crs"]
    assert ".prj" in report.rejected[0].detail


def test_a_geopackage_with_two_layers_fills_two_layers(db, tmp_path):
    area = factories.area(db)
    data = files.geopackage(
        tmp_path,
        {
            "Water Points": ([Point(37.1, -3.4), Point(37.2, -3.4)], {"name": ["A", "B"]}),
            "fences": ([LineString([(37.05, -3.45), (37.06, -3.44)])], {"name": ["North"]}),
        },
    )
    report = import_file(db, SYSTEM, area.id, "park.gpkg", data)
    assert report.layers == {"fences": {"created": 1}, "water_points": {"created": 2}}
    assert set(features(db, area.id, "water_points")) == {"A", "B"}


def test_kml_placemarks_become_points_without_altitude(db):
    area = factories.area(db)
    data = files.kml("Ranger Posts", [("HQ", 37.1, -3.4), ("Gate", 37.2, -3.35)])
    report = import_file(db, SYSTEM, area.id, "posts.kml", data)
    assert report.layers == {"ranger_posts": {"created": 2}}
    assert any("altitudes dropped" in n for n in report.notes)
    hq = features(db, area.id, "ranger_posts")["HQ"]
    assert to_shape(hq.geom).equals(Point(37.1, -3.4)) and hq.properties == {}


def test_a_layer_keeps_one_geometry_family(db):
    area = factories.area(db)
    import_file(
        db,
        SYSTEM,
        area.id,
        "a.geojson",
        files.geojson([({"type": "Point", "coordinates": [37.1, -3.4]}, {"name": "P"})]),
        layer="posts",
    )
    line = {"type": "LineString", "coordinates": [[37.1, -3.4], [37.11, -3.41]]}
    report = import_file(
        db, SYSTEM, area.id, "b.geojson", files.geojson([(line, {})]), layer="posts"
    )
    assert [r.reason for r in report.rejected] == ["wrong-type"]


def test_preview_changes_nothing(db):
    area = factories.area(db)
    data = files.geojson([({"type": "Point", "coordinates": [37.1, -3.4]}, {"name": "P"})])
    report = import_file(db, SYSTEM, area.id, "a.geojson", data, layer="posts", preview=True)
    assert report.created == 1 and features(db, area.id, "posts") == {}


def test_files_that_are_not_map_files_are_refused(db):
    area = factories.area(db)
    entities = (
        b'<?xml version="1.0"?><!DOCTYPE kml [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>&x;</name>'
        b"</Document></kml>"
    )
    for data in (
        b"<VRTDataset><OGRVRTLayer/></VRTDataset>",
        b"id,x,y\n1,2,3\n",
        b"\x00\x01",
        entities,
    ):
        with pytest.raises(Invalid):
            import_file(db, SYSTEM, area.id, "x.vrt", data, layer="posts")


def test_export_then_import_changes_nothing(db, client, tmp_path):
    park = h.map_park(db, client)
    manager = park.headers("manager")
    exported = client.get(f"/api/v1/areas/{park.slug}/layers/road", headers=manager)
    assert exported.status_code == 200 and exported.mimetype == "application/geo+json"
    report = import_file(db, SYSTEM, park.area_id, "road.geojson", exported.data, layer="road")
    assert (report.unchanged, report.created, report.updated) == (1, 0, 0)
    # the same file into another layer copies the features; the originals stay
    copy = import_file(db, SYSTEM, park.area_id, "road.geojson", exported.data, layer="tracks")
    assert copy.created == 1 and "another layer" in copy.notes[0]
    assert set(features(db, park.area_id, "road")) == set(features(db, park.area_id, "tracks"))
    # and through a Shapefile in UTM: the same geometry, to a millimetre, in a new layer
    feature = exported.get_json()["features"][0]
    original = shape(feature["geometry"])
    data = files.zipped_shapefile(
        tmp_path,
        "road_utm",
        [files.reproject(original, "EPSG:32737")],
        {"name": [feature["properties"]["name"]]},
        "EPSG:32737",
        "LineString",
    )
    import_file(db, SYSTEM, park.area_id, "road_utm.zip", data)
    back = to_shape(features(db, park.area_id, "road_utm")["Main road"].geom)
    assert np.abs(shapely.get_coordinates(back) - shapely.get_coordinates(original)).max() < 1e-8


def test_replace_deletes_what_the_file_no_longer_holds(db, client):
    park = h.map_park(db, client)
    lon, lat = park.centre  # HQ's place: a post elsewhere (at HQ's, it would be HQ renamed)
    empty_but_one = files.geojson(
        [({"type": "Point", "coordinates": [lon + 0.01, lat]}, {"name": "Only post"})]
    )
    report = import_file(
        db, SYSTEM, park.area_id, "p.geojson", empty_but_one, layer="ranger_post", replace=True
    )
    assert (report.created, report.deleted) == (1, 1)
    assert set(features(db, park.area_id, "ranger_post")) == {"Only post"}


def test_import_over_http_with_preview_and_rights(db, client):
    park = h.map_park(db, client)
    data = files.geojson(
        [
            ({"type": "Point", "coordinates": list(park.centre)}, {"name": "N"}),
            (shapely.geometry.mapping(BOWTIE), {"name": "Bad"}),
        ]
    )
    url = f"/api/v1/areas/{park.slug}/imports"

    def post(role, **query):
        return client.post(
            url,
            query_string=query,
            headers=park.headers(role),
            data={"file": (__import__("io").BytesIO(data), "new.geojson")},
        )

    preview = post("manager", layer="gates", preview="true")
    assert preview.status_code == 200, preview.get_json()
    body = preview.get_json()
    assert body["preview"] and body["created"] == 1 and body["accepted"] == 1
    assert body["rejected"][0]["reason"] == "invalid-geometry"
    assert features(db, park.area_id, "gates") == {}
    assert post("manager", layer="gates").get_json()["created"] == 1
    assert set(features(db, park.area_id, "gates")) == {"N"}
    assert post("partner", layer="gates").status_code == 403
    assert post("manager", layer="Bad Name").status_code == 422


def test_cli_import_prints_accepted_and_rejected(committed_db, fresh_engine, tmp_path):
    area = factories.area(committed_db, slug=f"cli-{uuid.uuid4().hex[:8]}")
    committed_db.commit()
    path = tmp_path / "water.geojson"
    path.write_bytes(
        files.geojson(
            [
                ({"type": "Point", "coordinates": [37.1, -3.4]}, {"name": "Dam"}),
                (shapely.geometry.mapping(BOWTIE), {"name": "Bowtie"}),
            ]
        )
    )
    url = fresh_engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(
        main,
        ["layers", "import", str(path), "--area", area.slug, "--layer", "water"],
        env={"DATABASE_URL": url},
    )
    assert result.exit_code == 0, result.output
    assert "accepted 1 (1 created" in result.output and "rejected 1" in result.output
    assert "rejected water#1: invalid-geometry: Self-intersection" in result.output
    assert "at 37.110000, -3.390000" in result.output
    assert set(features(committed_db, area.id, "water")) == {"Dam"}


def test_zones_can_be_imported_with_their_kinds(db, client):
    park = h.map_park(db, client)
    lon, lat = park.centre
    square = shapely.geometry.mapping(shapely.geometry.box(lon, lat, lon + 0.01, lat + 0.01))
    data = files.geojson(
        [
            (square, {"name": "Snare belt", "kind": "danger", "ranger_note": "go in pairs"}),
            (square, {"name": "Disco", "kind": "party"}),
            (square, {"kind": "buffer"}),
            ({"type": "Point", "coordinates": [lon, lat]}, {"name": "Dot"}),
        ]
    )
    report = import_file(db, SYSTEM, park.area_id, "zones.geojson", data, layer="zones")
    assert report.created == 1
    assert {r.index: r.reason for r in report.rejected} == {
        1: "bad-kind",
        2: "missing-name",
        3: "wrong-type",
    }
    zones = client.get(
        f"/api/v1/areas/{park.slug}/layers/zones", headers=park.headers("ranger")
    ).get_json()["features"]
    belt = next(z for z in zones if z["properties"]["name"] == "Snare belt")
    assert (
        belt["properties"]["kind"] == "danger"
        and belt["properties"]["ranger_note"] == "go in pairs"
    )
    assert belt["geometry"]["type"] == "MultiPolygon"
    exported = client.get(
        f"/api/v1/areas/{park.slug}/layers/zones", headers=park.headers("manager")
    )
    again = import_file(db, SYSTEM, park.area_id, "zones.geojson", exported.data, layer="zones")
    assert (again.unchanged, again.created, again.updated) == (2, 0, 0), exported.get_json()
