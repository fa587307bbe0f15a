"""Exports in standard formats, read back by libraries someone else wrote; geoprivacy holds."""

from __future__ import annotations

import csv
import json
import zipfile
from xml.etree import ElementTree as ET

import pyogrio
import pytest
from click.testing import CliRunner
from dwca.read import DwCAReader

from server.cli import main
from server.core.policy import SYSTEM
from server.species.service import load_starter_list
from tests.server.partners.helpers import partner_park, report

TRUE_LON_OFFSET = 0.0123


@pytest.fixture
def exported(committed_db, committed_client, fresh_engine, monkeypatch, tmp_path):
    p = partner_park(committed_db, committed_client)
    monkeypatch.setenv("DATABASE_URL", fresh_engine.url.render_as_string(hide_password=False))

    def run(fmt: str):
        output = tmp_path / f"export.{fmt}"
        result = CliRunner().invoke(
            main, ["export", "--area", p.slug, "--format", fmt, "--output", str(output)]
        )
        assert result.exit_code == 0, result.output
        return output

    return p, run


def _no_secrets(p, text: str) -> None:
    for secret in (
        "baobab",
        "hidden spring",
        "drinking",
        str(p.sightings["rhino"]),
        str(p.sightings["carcass"]),
    ):
        assert secret not in text
    assert str(round(p.park.centre[0] + TRUE_LON_OFFSET, 5)) not in text


def test_geopackage_has_every_layer_in_wgs84(exported):
    _, run = exported
    path = run("gpkg")
    layers = {str(name): kind for name, kind in pyogrio.list_layers(path)}
    assert {"boundary", "zones", "observations", "layer_road", "layer_ranger_post"} <= set(layers)
    for layer in layers:
        info = pyogrio.read_info(path, layer=layer)
        assert info["crs"] == "EPSG:4326" and info["features"] >= 1
    meta, _, geometry, _ = pyogrio.raw.read(path, layer="observations")
    assert len(geometry) == 2  # elephants (snapped) and the fire (exact)
    assert "coordinate_uncertainty_m" in meta["fields"]


def test_darwin_core_archive_reads_with_every_required_term(exported):
    p, run = exported
    path = run("dwca")
    with DwCAReader(str(path)) as archive:
        rows = list(archive)
        assert archive.metadata is not None
        title = archive.metadata.find("dataset/title").text
    assert p.park.slug in title or "Test Park" in title
    assert len(rows) == 1  # the elephants: the fire names no organism; rhino, carcass hidden
    row = rows[0].data
    dwc = "http://rs.tdwg.org/dwc/terms/"
    for term in ("occurrenceID", "basisOfRecord", "scientificName", "eventDate"):
        assert row[dwc + term], term
    assert row[dwc + "eventDate"] == "2026-10-01"  # the day only: it is generalised
    assert row[dwc + "coordinateUncertaintyInMeters"] == "7071.1"
    assert row[dwc + "vernacularName"] == "elephant"
    _no_secrets(p, zipfile.ZipFile(path).read("occurrence.txt").decode())


def test_csv_geojson_gpx_kml_show_the_same_cell_centre(exported):
    p, run = exported
    fid = str(p.sightings["elephants"])
    geojson = json.loads(run("geojson").read_text())
    point = next(f for f in geojson["features"] if f["id"] == fid)["geometry"]["coordinates"]
    with run("csv").open() as f:
        row = next(r for r in csv.DictReader(f) if r["id"] == fid)
    assert [float(row["longitude"]), float(row["latitude"])] == point
    gpx = run("gpx")
    ns = {"g": "http://www.topografix.com/GPX/1/1"}
    root = ET.parse(gpx).getroot()  # noqa: S314 (our own file)
    waypoints = root.findall("g:wpt", ns)
    assert [
        round(float(w.get("lon")), 6) for w in waypoints if w.find("g:name", ns).text == "elephant"
    ] == [round(point[0], 6)]
    assert root.findall("g:rte", ns)  # the road, as a route
    _, _, geometry, _ = pyogrio.raw.read(gpx, layer="waypoints")
    assert len(geometry) == 2
    kml = run("kml")
    assert pyogrio.read_info(kml, layer="observations")["features"] == 2
    for path in (gpx, kml):
        _no_secrets(p, path.read_text())
    _no_secrets(p, json.dumps(geojson))


def test_managers_export_everything_but_the_darwin_core_archive_stays_generalised(
    committed_db, committed_client, fresh_engine, monkeypatch, tmp_path
):
    p = partner_park(committed_db, committed_client)
    monkeypatch.setenv("DATABASE_URL", fresh_engine.url.render_as_string(hide_password=False))

    def run(fmt: str):
        output = tmp_path / f"all.{fmt}"
        args = [
            "export",
            "--area",
            p.slug,
            "--format",
            fmt,
            "--output",
            str(output),
            "--everything",
        ]
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
        return output

    geojson = json.loads(run("geojson").read_text())
    reports = [f for f in geojson["features"] if f["properties"]["collection"] == "reports"]
    assert {f["id"] for f in reports} >= {str(i) for i in p.sightings.values()}
    elephants = next(f for f in reports if f["id"] == str(p.sightings["elephants"]))
    assert elephants["properties"]["notes"] == "near the old ranger post by the baobab"
    assert elephants["geometry"]["coordinates"][0] == round(p.park.centre[0] + 0.0123, 7)
    assert any(f["properties"]["collection"] == "patrols" for f in geojson["features"])
    layers = {str(name) for name, _ in pyogrio.list_layers(run("gpkg"))}
    assert {"reports", "patrols", "observations"} <= layers
    _no_secrets(p, zipfile.ZipFile(run("dwca")).read("occurrence.txt").decode())


def test_darwin_core_names_the_taxon_the_species_list_resolves_and_no_more(
    committed_db, committed_client, fresh_engine, monkeypatch, tmp_path
):
    p = partner_park(committed_db, committed_client)
    load_starter_list(committed_db, SYSTEM)
    x, y = p.park.centre
    tembo = report(
        committed_db, p.area_id, "wildlife_sighting", x, y, {"species": "Tembo", "count": 3}
    )
    committed_db.commit()
    monkeypatch.setenv("DATABASE_URL", fresh_engine.url.render_as_string(hide_password=False))
    output = tmp_path / "names.zip"
    result = CliRunner().invoke(
        main, ["export", "--area", p.slug, "--format", "dwca", "--output", str(output)]
    )
    assert result.exit_code == 0, result.output
    dwc = "http://rs.tdwg.org/dwc/terms/"
    with DwCAReader(str(output)) as archive:
        rows = {r.data[dwc + "occurrenceID"].rsplit(":", 1)[1]: r.data for r in archive}
    # "Tembo" is the Swahili name of one taxon only: every term the list knows is filled
    named = rows[str(tembo)]
    assert named[dwc + "scientificName"] == "Loxodonta africana"
    assert named[dwc + "scientificNameAuthorship"] == "(Blumenbach, 1797)"
    assert named[dwc + "taxonRank"] == "species"
    assert [named[dwc + t] for t in ("kingdom", "phylum", "class", "order", "family", "genus")] == [
        "Animalia",
        "Chordata",
        "Mammalia",
        "Proboscidea",
        "Elephantidae",
        "Loxodonta",
    ]
    assert named[dwc + "vernacularName"] == "tembo"  # as partners see names: lowered
    # "Elephant" matches no taxon whole (African or Asian?): the kingdom only, not a guess
    vague = rows[str(p.sightings["elephants"])]
    assert vague[dwc + "scientificName"] == "Animalia"
    assert vague[dwc + "taxonRank"] == "kingdom" and vague[dwc + "genus"] == ""
