"""Offline map packages: what a build holds, its manifest on the area resource, resumable
downloads with HTTP Range, staleness, deltas that rebuild the same tiles, the pull's notice."""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
import sqlite3

import mapbox_vector_tile
import pytest
from geoalchemy2.shape import from_shape
from shapely.geometry import Point

from server.areas.models import MapFeature
from server.core.errors import Invalid
from server.core.policy import SYSTEM
from server.maps import mbtiles, packages
from sync.device.mappack import apply_delta
from sync.protocol import PROTOCOL_HEADER, PROTOCOL_VERSION
from sync.protocol.digests import tiles_digest
from tests import factories
from tests.server.maps import helpers as h

ZOOMS = (10, 13)
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c63000100000500010d0a2db40000000049454e44ae426082"
)


def build(db, park, maps_dir):
    package = packages.build(db, SYSTEM, park.area_id, maps_dir, zooms=ZOOMS)
    db.commit()
    return package


def folder(maps_dir, park, version):
    return maps_dir / str(park.area_id) / str(version)


def test_a_package_holds_the_layers_as_tiles_with_a_style(committed_db, committed_client, tmp_path):
    park = h.map_park(committed_db, committed_client)
    package = build(committed_db, park, tmp_path)
    assert package.version == 1 and package.tile_count > 0
    with sqlite3.connect(folder(tmp_path, park, 1) / "layers.mbtiles") as db:
        meta = dict(db.execute("SELECT name, value FROM metadata"))
        assert meta["format"] == "pbf" and (meta["minzoom"], meta["maxzoom"]) == ("10", "13")
        layer_ids = [layer["id"] for layer in json.loads(meta["json"])["vector_layers"]]
        assert layer_ids == ["zones", "boundary", "road", "ranger_post"]
        zooms = {z for (z,) in db.execute("SELECT DISTINCT zoom_level FROM tiles")}
        assert zooms == {10, 11, 12, 13}
        z, x, y = h.tile_of(*park.centre, 13)
        (data,) = db.execute(
            "SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?",
            (z, x, mbtiles.tms_row(z, y)),
        ).fetchone()
        assert tiles_digest(db) == package.tiles_sha256
    tile = mapbox_vector_tile.decode(gzip.decompress(data))
    assert {"zones", "boundary", "road", "ranger_post"} <= set(tile)
    assert tile["ranger_post"]["features"][0]["properties"]["name"] == f"HQ {park.slug}"
    assert "patrols" not in tile and "reports" not in tile  # packages are maps, not operations
    style = json.loads((folder(tmp_path, park, 1) / "style.json").read_text())
    assert style["version"] == 8 and style["sources"]["park"]["url"] == "mbtiles://layers.mbtiles"
    assert {layer["id"] for layer in style["layers"]} >= {
        "zones",
        "boundary",
        "road",
        "ranger_post",
    }
    assert [f["role"] for f in package.files] == ["tiles", "style"]


def test_manifest_is_on_the_area_resource_and_files_resume_with_range(
    committed_db, committed_client, test_config
):
    db, client = committed_db, committed_client
    park = h.map_park(db, client)
    assert (
        client.get(f"/api/v1/areas/{park.slug}", headers=park.headers("ranger")).get_json()[
            "map_package"
        ]
        is None
    )
    build(db, park, test_config.maps_dir)
    area = client.get(f"/api/v1/areas/{park.slug}", headers=park.headers("partner")).get_json()
    manifest = area["map_package"]
    assert manifest["version"] == 1 and manifest["stale"] is False
    assert manifest["min_zoom"] == 10 and manifest["max_zoom"] == 13
    assert (
        manifest
        == client.get(
            f"/api/v1/areas/{park.slug}/mappack", headers=park.headers("partner")
        ).get_json()
    )
    entry = next(f for f in manifest["files"] if f["role"] == "tiles")
    headers = park.headers("ranger")
    full = client.get(entry["href"], headers=headers)
    assert full.status_code == 200 and len(full.data) == entry["size"]
    assert hashlib.sha256(full.data).hexdigest() == entry["sha256"]
    # a download cut after 1000 bytes continues from there
    head = client.get(entry["href"], headers=headers | {"Range": "bytes=0-999"})
    assert head.status_code == 206 and len(head.data) == 1000
    tail = client.get(
        entry["href"],
        headers=headers | {"Range": "bytes=1000-", "If-Range": f'"{entry["sha256"]}"'},
    )
    assert tail.status_code == 206
    assert tail.headers["Content-Range"] == f"bytes 1000-{entry['size'] - 1}/{entry['size']}"
    assert hashlib.sha256(head.data + tail.data).hexdigest() == entry["sha256"]
    # If-Range naming another version's bytes: the whole file, not a mix of two versions
    mixed = client.get(
        entry["href"], headers=headers | {"Range": "bytes=1000-", "If-Range": '"0123"'}
    )
    assert mixed.status_code == 200 and len(mixed.data) == entry["size"]
    other = h.map_park(db, client, west=38.0)
    assert client.get(entry["href"], headers=other.headers("manager")).status_code == 404
    assert (
        client.get(
            entry["href"].replace("layers.mbtiles", "secret.db"), headers=headers
        ).status_code
        == 404
    )


def test_a_layer_change_makes_the_package_stale_and_the_rebuild_carries_a_delta(
    committed_db, committed_client, tmp_path
):
    db, client = committed_db, committed_client
    park = h.map_park(db, client)
    packages.build(db, SYSTEM, park.area_id, tmp_path, zooms=ZOOMS)
    db.rollback()  # a build whose transaction failed leaves a folder and no row
    assert folder(tmp_path, park, 1).is_dir()
    first = build(db, park, tmp_path)
    assert first.version == 1
    assert not packages.is_stale(db, first)
    assert packages.build(db, SYSTEM, park.area_id, tmp_path, only_if_stale=True) is None
    lon, lat = park.centre
    db.add(
        MapFeature(
            area_id=park.area_id,
            layer="ranger_post",
            name="New post",
            geom=from_shape(Point(lon + 0.01, lat), srid=4326),
        )
    )
    db.commit()
    assert packages.is_stale(db, first)
    assert packages.stale_areas(db) == [park.slug]
    second = packages.build(db, SYSTEM, park.area_id, tmp_path, only_if_stale=True)
    db.commit()
    assert second.version == 2 and (second.min_zoom, second.max_zoom) == ZOOMS
    delta = next(f for f in second.files if f["role"] == "delta")
    assert delta["from_version"] == 1 and delta["size"] < next(
        f["size"] for f in second.files if f["role"] == "tiles"
    )
    # the device's way: v1 plus the delta gives exactly v2's tiles
    device_copy = tmp_path / "device.mbtiles"
    shutil.copyfile(folder(tmp_path, park, 1) / "layers.mbtiles", device_copy)
    apply_delta(device_copy, folder(tmp_path, park, 2) / delta["name"], 2)
    with sqlite3.connect(device_copy) as device:
        assert tiles_digest(device) == second.tiles_sha256 != first.tiles_sha256
        assert dict(device.execute("SELECT name, value FROM metadata"))["version"] == "2"


def test_a_parks_raster_base_map_goes_into_the_package(committed_db, committed_client, tmp_path):
    db, client = committed_db, committed_client
    park = h.map_park(db, client)
    raster = tmp_path / "ortho.mbtiles"
    source = mbtiles.create(raster, {"name": "Ortho", "format": "png"})
    source.execute("INSERT INTO tiles VALUES (10, 617, 504, ?)", (PNG,))
    source.close()
    packages.attach_basemap(db, SYSTEM, park.area_id, raster, tmp_path / "maps")
    package = build(db, park, tmp_path / "maps")
    assert [f["role"] for f in package.files] == ["tiles", "basemap", "style"]
    style = json.loads((folder(tmp_path / "maps", park, 1) / "style.json").read_text())
    assert style["sources"]["basemap"]["type"] == "raster"
    vector = tmp_path / "vector.mbtiles"
    mbtiles.create(vector, {"name": "Not raster", "format": "pbf"}).close()
    with pytest.raises(Invalid, match="png, jpg or webp"):
        packages.attach_basemap(db, SYSTEM, park.area_id, vector, tmp_path / "maps")
    (tmp_path / "junk.mbtiles").write_bytes(b"not sqlite at all" * 10)
    with pytest.raises(Invalid, match="not an MBTiles"):
        packages.attach_basemap(
            db, SYSTEM, park.area_id, tmp_path / "junk.mbtiles", tmp_path / "maps"
        )


def test_the_pull_tells_a_device_of_each_new_package(committed_db, committed_client, test_config):
    db, client = committed_db, committed_client
    park = h.map_park(db, client)
    enrolment = factories.device(db, park.area_id, park.usernames["ranger"])
    db.commit()
    headers = {"Authorization": f"Bearer {enrolment.token}", PROTOCOL_HEADER: str(PROTOCOL_VERSION)}

    def pull(cursor=None):
        query = {"cursor": cursor} if cursor else {}
        body = client.get("/api/v1/sync/pull", query_string=query, headers=headers).get_json()
        return [c for c in body["changes"] if c["kind"] == "map_package"], body["cursor"]

    first = build(db, park, test_config.maps_dir)
    changes, cursor = pull()
    assert [(c["id"], c["data"]["version"]) for c in changes] == [(str(first.id), 1)]
    assert changes[0]["data"]["tiles_sha256"] == first.tiles_sha256
    assert changes[0]["data"]["base_url"] == f"/api/v1/areas/{park.area_id}/mappack/1/"
    assert pull(cursor)[0] == []
    second = packages.build(db, SYSTEM, park.area_id, test_config.maps_dir, zooms=ZOOMS)
    db.commit()
    changes, _ = pull(cursor)
    by_id = {c["id"]: c for c in changes}
    assert by_id[str(first.id)]["deleted"] is True
    assert by_id[str(second.id)]["data"]["version"] == 2
