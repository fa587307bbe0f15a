"""Exports over HTTP: small ones come back in the response, large ones are jobs that a real
`rangersync worker` makes, with progress and a download link; partners export with their key,
geoprivacy as everywhere else."""

from __future__ import annotations

import dataclasses
import io
import json
import os
import subprocess
import time
import uuid
import zipfile

import pyogrio
import pytest
from click.testing import CliRunner
from dwca.read import DwCAReader
from sqlalchemy import text

from server.app import create_app
from server.cli import main
from server.exports import jobs
from tests.live import BIN
from tests.server.partners.helpers import bearer, issue, partner_park
from tests.server.partners.test_exports import _no_secrets


def _geojson(response) -> dict:
    assert response.status_code == 200, response.get_data()[:500]
    return json.loads(response.get_data())


def test_a_manager_gets_a_small_geopackage_in_the_response(db, client, tmp_path):
    p = partner_park(db, client)
    response = client.post(
        f"/api/v1/areas/{p.slug}/exports",
        json={"format": "gpkg", "everything": True},
        headers=p.park.headers("manager"),
    )
    assert response.status_code == 200, response.get_json()
    assert response.mimetype == "application/geopackage+sqlite3"
    assert 'filename="' + p.slug + '-export.gpkg"' in response.headers["Content-Disposition"]
    path = tmp_path / "small.gpkg"
    path.write_bytes(response.get_data())
    layers = {str(name) for name, _ in pyogrio.list_layers(path)}
    assert {"boundary", "observations", "reports", "patrols"} <= layers
    assert pyogrio.read_info(path, layer="observations")["crs"] == "EPSG:4326"


def test_rangers_and_unknown_formats_are_refused(db, client):
    p = partner_park(db, client)
    url = f"/api/v1/areas/{p.slug}/exports"
    ranger = client.post(url, json={"format": "csv"}, headers=p.park.headers("ranger"))
    assert ranger.status_code == 403
    bad = client.post(url, json={"format": "shp"}, headers=p.park.headers("manager"))
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"
    partner = client.post(
        url, json={"format": "csv", "everything": True}, headers=p.park.headers("partner")
    )
    assert partner.status_code == 403


def test_a_partner_exports_with_its_key_and_sees_what_ogc_shows(db, client):
    p = partner_park(db, client)
    key = issue(db, p.slug)
    exported = _geojson(client.post(f"/ogc/exports?area={p.slug}&format=geojson&key={key}"))
    features = {f["id"]: f for f in exported["features"]}
    fid = str(p.sightings["elephants"])
    ogc = _geojson(
        client.get(f"/ogc/collections/{p.slug}.observations/items/{fid}", headers=bearer(key))
    )
    assert features[fid]["geometry"] == ogc["geometry"]  # the same cell centre
    assert features[fid]["properties"]["coordinate_uncertainty_m"] == 7071.1
    assert "reports" not in {f["properties"]["collection"] for f in exported["features"]}
    _no_secrets(p, json.dumps(exported))
    # narrowed keys export only their collections; other parks are not there at all
    narrow = issue(db, p.slug, collections=["zones"])
    only = _geojson(client.post(f"/ogc/exports?area={p.slug}&format=geojson&key={narrow}"))
    assert {f["properties"]["collection"] for f in only["features"]} == {"zones"}
    other = partner_park(db, client, west=38.0)
    elsewhere = client.post(f"/ogc/exports?area={other.slug}&format=csv&key={key}")
    assert elsewhere.status_code == 404
    # every request with the key is in the park's log
    logged = client.get(
        f"/api/v1/areas/{p.slug}/partner-requests", headers=p.park.headers("admin")
    ).get_json()
    assert sum(r["path"] == "/ogc/exports" for r in logged) >= 2


def _worker(engine, config, tmp_path) -> subprocess.Popen:
    env = os.environ | {
        "DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "RANGERSYNC_VAR_DIR": str(tmp_path / "worker-var"),
        "EXPORT_DIR": str(config.export_dir),
        "LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [BIN / "rangersync", "worker", "--concurrency", "2"],
        env=env,
        stdout=open(tmp_path / "worker.log", "w"),
        stderr=subprocess.STDOUT,
    )


def _until_done(client, url, headers=None, timeout=90.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(url, headers=headers or {}).get_json()
        assert 0 <= job["progress_percent"] <= 100 and job["rows_done"] <= job["rows_total"]
        if job["state"] in ("done", "failed"):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.3)


@pytest.mark.slow
def test_large_exports_are_worker_jobs_with_progress_and_a_download(
    committed_db, committed_client, fresh_engine, test_config, tmp_path
):
    p = partner_park(committed_db, committed_client)
    config = dataclasses.replace(
        test_config, export_stream_max_features=1, export_dir=tmp_path / "exports"
    )
    client = create_app(config, engine=fresh_engine).test_client()
    manager = p.park.headers("manager")
    asked = client.post(f"/api/v1/areas/{p.slug}/exports", json={"format": "dwca"}, headers=manager)
    assert asked.status_code == 202, asked.get_json()
    job = asked.get_json()
    assert asked.headers["Location"] == job["url"]
    # a Darwin Core Archive reads the observations only: the elephants and the fire
    assert job["state"] == "queued" and job["rows_total"] == 2 and job["download"] is None
    url = job["url"].split("localhost", 1)[1]
    early = client.get(url + "/file", headers=manager)
    assert early.status_code == 409 and early.headers["Retry-After"]
    # the partner's own large export, with its key
    key = issue(committed_db, p.slug)
    partner_asked = client.post(f"/ogc/exports?area={p.slug}&format=gpkg&key={key}")
    assert partner_asked.status_code == 202
    partner_url = partner_asked.headers["Location"].split("localhost", 1)[1]
    assert f"key={key}" in partner_url
    worker = _worker(fresh_engine, config, tmp_path)
    try:
        done = _until_done(client, url, manager)
        partner_done = _until_done(client, partner_url)
    finally:
        worker.terminate()
        worker.wait(timeout=20)
    assert done["state"] == "done", done
    assert done["progress_percent"] == 100 and done["rows_done"] == done["rows_total"]
    assert done["size_bytes"] > 0 and done["expires_at"] > done["finished_at"]
    archive = client.get(done["download"].split("localhost", 1)[1], headers=manager)
    assert archive.status_code == 200 and archive.mimetype == "application/zip"
    path = tmp_path / "job.zip"
    path.write_bytes(archive.get_data())
    with DwCAReader(str(path)) as dwca:
        assert len(list(dwca)) == 1
    _no_secrets(p, zipfile.ZipFile(io.BytesIO(archive.get_data())).read("occurrence.txt").decode())
    # the partner's job: a GeoPackage with the snapped elephants; nobody else sees the job
    assert partner_done["state"] == "done", partner_done
    gpkg = tmp_path / "partner.gpkg"
    gpkg.write_bytes(client.get(partner_done["download"].split("localhost", 1)[1]).get_data())
    assert pyogrio.read_info(gpkg, layer="observations")["features"] == 2
    stranger = issue(committed_db, p.slug)
    assert client.get(partner_url.split("?")[0] + f"?key={stranger}").status_code == 404
    assert client.get(partner_url.split("?")[0], headers=manager).status_code == 404
    # expired: 410, and the worker's purge deletes the file
    committed_db.execute(text("UPDATE export_jobs SET expires_at = now() - interval '1 s'"))
    committed_db.commit()
    assert client.get(url + "/file", headers=manager).status_code == 410
    factory = create_app(config, engine=fresh_engine).extensions["rangersync"].session_factory
    assert jobs.purge_expired(factory, config.export_dir) == 2
    assert not list(config.export_dir.glob("*.zip")) and not list(config.export_dir.glob("*.gpkg"))
    assert client.get(url, headers=manager).get_json()["state"] == "expired"


def test_a_revoked_key_gets_a_failed_job_not_a_file(
    committed_db, committed_client, fresh_engine, test_config, tmp_path
):
    p = partner_park(committed_db, committed_client)
    config = dataclasses.replace(
        test_config, export_stream_max_features=1, export_dir=tmp_path / "exports"
    )
    client = create_app(config, engine=fresh_engine).test_client()
    key = issue(committed_db, p.slug)
    asked = client.post(f"/ogc/exports?area={p.slug}&format=csv", headers=bearer(key))
    assert asked.status_code == 202
    job_id = asked.get_json()["id"]
    committed_db.execute(text("UPDATE partner_keys SET revoked_at = now()"))
    committed_db.commit()
    factory = create_app(config, engine=fresh_engine).extensions["rangersync"].session_factory
    assert jobs.run(factory, config.export_dir, 1, p.area_id, uuid.UUID(job_id)) == "failed"
    state, error = committed_db.execute(text("SELECT state, error FROM export_jobs")).one()
    assert state == "failed" and "revoked" in error
    assert not list(config.export_dir.iterdir())


def test_the_cli_says_how_far_a_long_export_is(
    committed_db, committed_client, fresh_engine, monkeypatch, tmp_path
):
    p = partner_park(committed_db, committed_client)
    committed_db.execute(
        text(
            """INSERT INTO map_features (id, area_id, layer, name, geom, properties, version)
               SELECT gen_random_uuid(), :area, 'water_point', 'WP ' || i,
                      ST_SetSRID(ST_MakePoint(37.01 + i * 0.00001, -3.45), 4326), '{}', 1
               FROM generate_series(1, 10500) i"""
        ),
        {"area": p.area_id},
    )
    committed_db.commit()
    monkeypatch.setenv("DATABASE_URL", fresh_engine.url.render_as_string(hide_password=False))
    output = tmp_path / "long.csv"
    result = CliRunner().invoke(
        main, ["export", "--area", p.slug, "--format", "geojson", "--output", str(output)]
    )
    assert result.exit_code == 0, result.output
    assert "features read" in result.stderr and "100 %" in result.stderr
    assert "features read" not in result.stdout
    assert len(json.loads(output.read_text())["features"]) > 10_500
