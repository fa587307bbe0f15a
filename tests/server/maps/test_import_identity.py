"""Re-importing a file without RangerSync ids: the same file changes nothing, an edited one
updates what was edited, `replace` deletes what it no longer holds, and features that cannot be
told apart are refused with a reason. The file is a real Shapefile of 67 wilderness areas, and
the same features as GDAL writes them in GeoPackage, GeoJSON and KML."""

from __future__ import annotations

import io
import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import shapely
import shapely.affinity
from click.testing import CliRunner
from geoalchemy2.shape import to_shape
from shapely.geometry import box
from shapely.geometry.polygon import orient
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from server.areas.models import MapFeature
from server.areas.service import create_area
from server.cli import main
from server.core.errors import Invalid
from server.core.policy import SYSTEM
from server.maps.import_keys import Identity
from server.maps.imports import import_file
from tests import factories
from tests.server.maps import files
from tests.server.maps import helpers as h

LAYER = "wilderness"
COLORADO_UTAH = box(-114.0, 36.5, -104.5, 42.5)


@pytest.fixture
def park(db):
    """An area around the wilderness areas of the fixture."""
    return create_area(
        db, SYSTEM, slug=f"wild-{uuid.uuid4().hex[:8]}", name="Wild", boundary=COLORADO_UTAH
    )


@pytest.fixture(scope="module")
def wilderness():
    geometries, fields = files.wilderness()
    assert len(geometries) == 67 and "id" not in {f.lower() for f in fields}
    return geometries, fields


def live(db, area_id) -> list[MapFeature]:
    return db.scalars(
        select(MapFeature).where(
            MapFeature.area_id == area_id,
            MapFeature.layer == LAYER,
            MapFeature.deleted_at.is_(None),
        )
    ).all()


def counts(report) -> tuple[int, int, int, int]:
    return report.created, report.updated, report.unchanged, report.deleted


def outcome(report) -> tuple:
    """All a report says, for comparing a preview with the real run."""
    return (
        counts(report),
        report.layers,
        {name: str(how) for name, how in report.identity.items()},
        [(r.source_layer, r.index, r.reason, r.detail) for r in report.rejected],
    )


def imported(db, park, name_and_data, **options):
    """A preview, then the real run; the preview must have told the truth."""
    name, data = name_and_data
    preview = import_file(db, SYSTEM, park.id, name, data, layer=LAYER, preview=True, **options)
    report = import_file(db, SYSTEM, park.id, name, data, layer=LAYER, **options)
    assert outcome(preview) == outcome(report)
    return report


def by_number(db, area_id) -> dict[str, MapFeature]:
    """Stored features by their WILDRNP020 (as text: KML has no integer fields)."""
    return {str(f.properties["WILDRNP020"]): f for f in live(db, area_id)}


def test_the_real_shapefile_imported_three_times_is_there_once(db, park):
    data = files.WILDERNESS.read_bytes()
    first = imported(db, park, ("coutwildrnp.zip", data))
    assert counts(first) == (67, 0, 0, 0) and not first.rejected
    for _again in range(2):
        report = imported(db, park, ("coutwildrnp.zip", data))
        assert counts(report) == (0, 0, 67, 0) and not report.rejected
        assert report.identity == {LAYER: Identity("content")}
    assert len(live(db, park.id)) == 67
    assert db.scalar(select(func.max(MapFeature.version)).where(MapFeature.area_id == park.id)) == 1


@pytest.mark.parametrize("fmt", list(files.FORMATS))
def test_an_unchanged_file_without_ids_reimports_as_unchanged(db, park, wilderness, tmp_path, fmt):
    geometries, fields = wilderness
    data = files.written(tmp_path, fmt, geometries, fields)
    assert counts(imported(db, park, data)) == (67, 0, 0, 0)
    again = files.written(tmp_path, fmt, geometries, fields)  # written anew, as after an edit
    assert counts(imported(db, park, again)) == (0, 0, 67, 0)
    assert len(live(db, park.id)) == 67


@pytest.mark.parametrize("fmt", list(files.FORMATS))
def test_a_moved_vertex_is_one_update(db, park, wilderness, tmp_path, fmt):
    geometries, fields = wilderness
    imported(db, park, files.written(tmp_path, fmt, geometries, fields))
    edited = list(geometries)
    edited[5] = files.moved_vertex(geometries[5])
    report = imported(db, park, files.written(tmp_path, fmt, edited, fields))
    assert counts(report) == (0, 1, 66, 0) and not report.rejected
    feature = by_number(db, park.id)[str(fields["WILDRNP020"][5])]
    assert feature.version == 2
    moved = shapely.get_coordinates(edited[5])[1]
    assert shapely.get_coordinates(to_shape(feature.geom))[1] == pytest.approx(moved, abs=1e-6)


@pytest.mark.parametrize("fmt", list(files.FORMATS))
def test_a_removed_feature_is_deleted_only_with_replace(db, park, wilderness, tmp_path, fmt):
    geometries, fields = wilderness
    imported(db, park, files.written(tmp_path, fmt, geometries, fields))
    gone = str(fields["WILDRNP020"][10])
    fewer = files.written(
        tmp_path,
        fmt,
        geometries[:10] + geometries[11:],
        {name: values[:10] + values[11:] for name, values in fields.items()},
    )
    assert counts(imported(db, park, fewer)) == (0, 0, 66, 0)
    assert counts(imported(db, park, fewer, replace=True)) == (0, 0, 66, 1)
    left = by_number(db, park.id)
    assert len(left) == 66 and gone not in left


def test_three_edited_polygons_are_three_updates(db, park, wilderness, tmp_path):
    """One outline moved, one attribute corrected, and one polygon of the nine that share the
    name 'Sangre de Cristo Wilderness' both redrawn and given a new area."""
    geometries, fields = wilderness
    imported(db, park, files.written(tmp_path, "shp", geometries, fields))
    sangre = [i for i, n in enumerate(fields["NAME"]) if n == "Sangre de Cristo Wilderness"]
    assert len(sangre) == 9
    edited, changed = list(geometries), {name: list(values) for name, values in fields.items()}
    edited[3] = files.moved_vertex(geometries[3])
    changed["URL"][20] = "https://wilderness.net/visit-wilderness/"
    edited[sangre[4]] = files.moved_vertex(geometries[sangre[4]], by=-0.001)
    changed["AREA"][sangre[4]] = 0.5
    report = imported(db, park, files.written(tmp_path, "shp", edited, changed))
    assert counts(report) == (0, 3, 64, 0) and not report.rejected
    stored = by_number(db, park.id)
    assert stored[str(fields["WILDRNP020"][20])].properties["URL"].startswith("https://")
    assert stored[str(fields["WILDRNP020"][sangre[4]])].properties["AREA"] == 0.5


def test_duplicate_keys_are_refused_feature_by_feature(db, park):
    data = files.WILDERNESS.read_bytes()
    names = Counter(files.wilderness()[1]["NAME"])
    shared = sum(n for n in names.values() if n > 1)
    report = imported(db, park, ("coutwildrnp.zip", data), key="NAME")
    assert counts(report) == (67 - shared, 0, 0, 0)
    assert len(report.rejected) == shared and {r.reason for r in report.rejected} == {
        "duplicate-key"
    }
    sangre = [r for r in report.rejected if "Sangre de Cristo" in r.detail]
    assert len(sangre) == 9 and "on 9 features of the file" in sangre[0].detail
    assert all(r.location for r in report.rejected)
    # a key that does not tell features apart is not remembered: the next import goes by content
    again = imported(db, park, ("coutwildrnp.zip", data))
    assert again.identity == {LAYER: Identity("content")}
    assert counts(again) == (shared, 0, 67 - shared, 0)


def test_a_named_key_is_remembered_for_the_next_import_of_the_source(
    db, park, wilderness, tmp_path
):
    geometries, fields = wilderness
    data = files.WILDERNESS.read_bytes()
    first = imported(db, park, ("coutwildrnp.zip", data), key="wildrnp020")
    assert first.identity == {LAYER: Identity("key", "WILDRNP020")}
    assert counts(first) == (67, 0, 0, 0)
    edited, changed = list(geometries), {name: list(values) for name, values in fields.items()}
    for i in (1, 30, 60):  # moved, and the recorded size corrected
        edited[i] = shapely.affinity.translate(geometries[i], 0.01, 0.01)
        changed["AREA"][i] = 1.0
        changed["PERIMETER"][i] = 2.0
    report = imported(db, park, files.written(tmp_path, "shp", edited, changed))
    assert report.identity == {LAYER: Identity("key", "WILDRNP020", "coutwildrnp.zip")}
    assert counts(report) == (0, 3, 64, 0)
    # a feature that lost its key is refused, not created a second time
    changed["WILDRNP020"] = [float(n) for n in changed["WILDRNP020"]]  # a numeric null is NaN
    changed["WILDRNP020"][7] = float("nan")
    report = imported(db, park, files.written(tmp_path, "shp", edited, changed), replace=True)
    assert counts(report) == (0, 0, 66, 0)
    assert [(r.index, r.reason) for r in report.rejected] == [(7, "missing-key")]
    assert len(live(db, park.id)) == 67


def test_a_key_the_file_lacks_is_refused(db, park):
    with pytest.raises(Invalid) as refused:
        import_file(
            db, SYSTEM, park.id, "w.zip", files.WILDERNESS.read_bytes(), layer=LAYER, key="gid"
        )
    assert refused.value.errors == {"key": ["not a field of the file"]}
    assert "WILDRNP020" in str(refused.value)


def test_features_that_cannot_be_told_apart_are_refused_not_guessed(db):
    area = factories.area(db)
    lon, lat = 37.1, -3.4

    def points(*places, **properties):
        return files.geojson([({"type": "Point", "coordinates": p}, properties) for p in places])

    three = [[lon, lat], [lon + 0.01, lat], [lon + 0.02, lat]]
    first = import_file(
        db, SYSTEM, area.id, "s.geojson", points(*three, kind="snare"), layer="snares"
    )
    assert first.created == 3
    # two of three alike snares moved: which old snare is which new one?
    moved = [three[0], [lon + 0.011, lat], [lon + 0.021, lat]]
    for replace in (False, True):
        report = import_file(
            db,
            SYSTEM,
            area.id,
            "s.geojson",
            points(*moved, kind="snare"),
            layer="snares",
            replace=replace,
        )
        assert counts(report) == (0, 0, 1, 0)
        assert [r.reason for r in report.rejected] == ["ambiguous-match"] * 2
        assert "the same attributes as 2 features" in report.rejected[0].detail
        assert "name a key field" in report.rejected[0].detail
    # one moved snare is no riddle
    one_moved = points(*three[:2], [lon + 0.03, lat], kind="snare")
    report = import_file(db, SYSTEM, area.id, "s.geojson", one_moved, layer="snares")
    assert counts(report) == (0, 1, 2, 0)
    # a point with no attributes at all that moved is a new point: nothing says it is the old one
    report = import_file(db, SYSTEM, area.id, "p.geojson", points(three[0]), layer="posts")
    report = import_file(db, SYSTEM, area.id, "p.geojson", points(three[1]), layer="posts")
    assert counts(report) == (1, 0, 0, 0)
    # two identical features in one file: the first is imported, the copy refused
    report = import_file(
        db, SYSTEM, area.id, "d.geojson", points(three[2], three[2]), layer="posts"
    )
    assert counts(report) == (1, 0, 0, 0)
    assert [(r.index, r.reason) for r in report.rejected] == [(1, "duplicate-feature")]


def test_import_over_http_with_a_key(db, client):
    park = h.map_park(db, client)
    lon, lat = park.centre
    url = f"/api/v1/areas/{park.slug}/imports"

    def post(data, **query):
        return client.post(
            url,
            query_string={"layer": "gates", **query},
            headers=park.headers("manager"),
            data={"file": (io.BytesIO(data), "gates.geojson")},
        )

    gates = [
        ({"type": "Point", "coordinates": [lon, lat]}, {"gate_no": 1, "name": "North"}),
        ({"type": "Point", "coordinates": [lon + 0.01, lat]}, {"gate_no": 2, "name": "South"}),
    ]
    assert post(files.geojson(gates), key="gate_no").get_json()["created"] == 2
    gates[0] = ({"type": "Point", "coordinates": [lon, lat + 0.01]}, {"gate_no": 1, "name": "N"})
    preview = post(files.geojson(gates), preview="true").get_json()
    assert preview["identity"] == {
        "gates": {"method": "key", "key": "gate_no", "remembered_from": "gates.geojson"}
    }
    assert (preview["created"], preview["updated"], preview["unchanged"]) == (0, 1, 1)
    body = post(files.geojson(gates)).get_json()
    assert (body["created"], body["updated"], body["unchanged"]) == (0, 1, 1)
    refused = post(files.geojson(gates), key="colour")
    assert refused.status_code == 422 and refused.mimetype == "application/problem+json"


def test_cli_import_three_times_reports_the_second_and_third_unchanged(committed_db, fresh_engine):
    area = create_area(
        committed_db, SYSTEM, slug=f"cli-{uuid.uuid4().hex[:8]}", name="W", boundary=COLORADO_UTAH
    )
    committed_db.commit()
    env = {"DATABASE_URL": fresh_engine.url.render_as_string(hide_password=False)}
    command = ["layers", "import", str(files.WILDERNESS), "--area", area.slug, "--layer", LAYER]
    outputs = [CliRunner().invoke(main, command, env=env) for _ in range(3)]
    assert [r.exit_code for r in outputs] == [0, 0, 0], outputs[0].output
    assert "accepted 67 (67 created, 0 updated, 0 unchanged)" in outputs[0].output
    for again in outputs[1:]:
        assert "accepted 67 (0 created, 0 updated, 67 unchanged)" in again.output
        assert f"layer {LAYER}: 67 unchanged (matched by content)" in again.output
    keyed = CliRunner().invoke(main, [*command, "--key", "WILDRNP020"], env=env)
    assert "67 unchanged (matched by key WILDRNP020)" in keyed.output, keyed.output
    assert len(live(committed_db, area.id)) == 67


def test_the_same_features_in_another_format_are_unchanged(db, park, wilderness, tmp_path):
    """A Shapefile's outer rings run clockwise, RFC 7946 GeoJSON's counter-clockwise; geometries
    are compared normalised, so a change of format alone changes nothing."""
    geometries, fields = wilderness
    first = imported(db, park, ("coutwildrnp.zip", files.WILDERNESS.read_bytes()))
    assert counts(first) == (67, 0, 0, 0)
    assert counts(imported(db, park, files.written(tmp_path, "gpkg", geometries, fields))) == (
        0,
        0,
        67,
        0,
    )
    anticlockwise = [orient(g, sign=1.0) for g in geometries]
    assert all(not g.exterior.is_ccw for g in geometries)
    assert all(g.exterior.is_ccw for g in anticlockwise)
    report = imported(db, park, files.written(tmp_path, "geojson", anticlockwise, fields))
    assert counts(report) == (0, 0, 67, 0)


def test_two_imports_of_the_same_file_at_once_store_it_once(committed_db, fresh_engine):
    area = create_area(
        committed_db, SYSTEM, slug=f"two-{uuid.uuid4().hex[:8]}", name="W", boundary=COLORADO_UTAH
    )
    committed_db.commit()
    data = files.WILDERNESS.read_bytes()
    start = threading.Barrier(2)

    def one_import():
        with sessionmaker(bind=fresh_engine)() as session:
            start.wait()
            report = import_file(session, SYSTEM, area.id, "w.zip", data, layer=LAYER)
            session.commit()
            return counts(report)

    with ThreadPoolExecutor(2) as pool:
        results = sorted(pool.map(lambda _: one_import(), range(2)))
    assert results == [(0, 0, 67, 0), (67, 0, 0, 0)]
    assert len(live(committed_db, area.id)) == 67
