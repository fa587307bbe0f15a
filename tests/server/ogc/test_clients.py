"""The partner API through clients someone else wrote, against a real server: OWSLib's OGC API
Features client and GDAL's OAPIF driver (through pyogrio), with a key from the CLI."""

from __future__ import annotations

import json
import subprocess
import urllib.request

import pyogrio
import pytest
from owslib.ogcapi.features import Features
from pyogrio import raw

from tests.live import BIN


@pytest.fixture(scope="module")
def partner_key(live_server) -> str:
    result = subprocess.run(
        [BIN / "rangersync", "partner", "key", "issue", "--area", "demo", "--org", "GBIF node"],
        env=live_server.env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_owslib_walks_landing_conformance_collections_and_items(live_server, partner_key):
    api = Features(f"{live_server.url}/ogc/", headers={"Authorization": f"Bearer {partner_key}"})
    assert (
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"
        in (api.conformance()["conformsTo"])
    )
    ids = api.feature_collections()
    assert {"demo.boundary", "demo.zones", "demo.observations", "demo.effort"} <= set(ids)
    assert not any("patrol" in i or "track" in i or "position" in i for i in ids)
    zones = api.collection("demo.zones")
    assert zones["extent"]["spatial"]["bbox"][0][0] < zones["extent"]["spatial"]["bbox"][0][2]
    everything = api.collection_items("demo.zones", limit=100)
    assert everything["numberReturned"] >= 3
    # paging: a page of two, then the `next` link, until there is none
    seen, page = [], api.collection_items("demo.zones", limit=2)
    while True:
        seen += [f["id"] for f in page["features"]]
        nxt = [link["href"] for link in page["links"] if link["rel"] == "next"]
        if not nxt:
            break
        request = urllib.request.Request(nxt[0], headers={"Authorization": f"Bearer {partner_key}"})  # noqa: S310
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (loopback)
            page = json.load(response)
    assert sorted(seen) == sorted(f["id"] for f in everything["features"])
    assert len(seen) == len(set(seen))
    # bbox and datetime
    west, south, east, north = zones["extent"]["spatial"]["bbox"][0]
    half = api.collection_items(
        "demo.zones", bbox=[west, south, (west + east) / 2, north], limit=100
    )
    assert 0 < half["numberReturned"] <= everything["numberReturned"]
    future = api.collection_items("demo.observations", datetime_="2100-01-01/..")
    assert future["numberReturned"] == 0
    queryables = api.collection_queryables("demo.observations")
    assert {"category", "species"} <= set(queryables["properties"])


def test_owslib_with_the_key_in_the_url(live_server, partner_key):
    api = Features(f"{live_server.url}/ogc/?key={partner_key}")
    observations = api.collection_items("demo.observations", limit=1000)
    assert observations["numberReturned"] >= 1
    for feature in observations["features"]:
        assert feature["properties"]["category"] in ("wildlife_sighting", "fire")
        assert "notes" not in feature["properties"]


def test_gdal_reads_a_collection_through_its_oapif_driver(live_server, partner_key):
    url = f"OAPIF:{live_server.url}/ogc/"
    pyogrio.set_gdal_config_options({"GDAL_HTTP_AUTH": "BEARER", "GDAL_HTTP_BEARER": partner_key})
    try:
        layers = {str(name) for name, _ in pyogrio.list_layers(url)}
        assert {"demo.zones", "demo.boundary", "demo.layer-road"} <= layers
        meta, _, geometry, _ = raw.read(url, layer="demo.zones")
    finally:
        pyogrio.set_gdal_config_options({"GDAL_HTTP_AUTH": None, "GDAL_HTTP_BEARER": None})
    assert 'AUTHORITY["OGC","CRS84"]' in meta["crs"] or meta["crs"] == "OGC:CRS84"
    assert len(geometry) >= 3 and "kind" in meta["fields"]
    # and with the key in the URL, as a QGIS or GDAL user pastes it
    meta, _, geometry, _ = raw.read(
        f"OAPIF:{live_server.url}/ogc/?key={partner_key}", layer="demo.boundary"
    )
    assert len(geometry) == 1


def test_html_pages_a_person_can_browse(live_server, partner_key):
    for path in ("/ogc/", "/ogc/collections", "/ogc/collections/demo.zones/items"):
        status, headers, body = live_server.http("GET", f"{path}?f=html&key={partner_key}")
        assert status == 200 and headers["Content-Type"].startswith("text/html"), path
        assert b"<table" in body or b"<ul" in body


def test_keys_in_urls_stay_out_of_the_access_log(live_server, partner_key):
    status, _, _ = live_server.http("GET", f"/ogc/collections?key={partner_key}")
    assert status == 200
    log = live_server.log.read_text()
    assert "/ogc/collections" in log  # requests are logged…
    assert partner_key not in log  # …without the key
