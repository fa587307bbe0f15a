"""A handheld against a real server process: it learns of the park's map package from the pull,
downloads it over a link that drops mid-file (resuming with Range), then takes the next version
as a delta after a manager changed a layer."""

from __future__ import annotations

import sqlite3
import subprocess

import pytest

from server.demo.seed import DEMO_PASSWORD
from sync.device.client import DeviceClient
from sync.device.mappack import MapPackUpdater
from sync.protocol.digests import tiles_digest
from tests.live import BIN


def _cli(env, *args):
    return subprocess.run(
        [BIN / "rangersync", *args], env=env, capture_output=True, text=True, check=True
    ).stdout


class LinkDropped(ConnectionError):
    pass


def test_device_downloads_resumes_and_applies_a_delta(live_server, tmp_path):
    env, http = live_server.env, live_server.http
    code = _cli(env, "device", "enrol", "--area", "demo", "--user", "baraka").strip()
    token = http.json("POST", "/api/v1/devices/enrol", {"code": code})[1]["token"]
    built = _cli(env, "mappack", "build", "--area", "demo", "--min-zoom", "10", "--max-zoom", "13")
    assert "layers.mbtiles" in built
    client = DeviceClient(live_server.url, token, tmp_path / "outbox.db")
    client.sync()
    [manifest] = client.scope("map_package").values()

    drops = {"left": 1}

    def flaky_link(name: str, received: int) -> None:
        if name == "layers.mbtiles" and received >= 4096 and drops["left"]:
            drops["left"] -= 1
            raise LinkDropped("signal lost")

    maps = tmp_path / "maps"
    updater = MapPackUpdater(live_server.url, token, maps, chunk_bytes=1024, on_chunk=flaky_link)
    with pytest.raises(LinkDropped):
        updater.update(client.scope("map_package"))
    assert updater.installed() is None
    assert (maps / "staging" / "layers.mbtiles.part").stat().st_size >= 4096
    first = updater.update(client.scope("map_package"))
    assert (first.action, first.version, first.resumed) == ("full", manifest["version"], 1)
    with sqlite3.connect(maps / "layers.mbtiles") as db:
        assert tiles_digest(db) == manifest["tiles_sha256"]
    assert (maps / "style.json").exists()
    assert updater.update(client.scope("map_package")).action == "current"

    # a manager adds a gate; the package is rebuilt; the device takes the delta
    manager = http.json(
        "POST", "/api/v1/auth/token", {"username": "manager", "password": DEMO_PASSWORD}
    )[1]["access_token"]
    status, _ = http.json(
        "POST",
        "/api/v1/areas/demo/layers/gates/features",
        {"geometry": {"type": "Point", "coordinates": [37.6, -3.4]}, "name": "Test gate"},
        token=manager,
    )
    assert status == 201
    area = http.json("GET", "/api/v1/areas/demo", token=manager)[1]
    assert area["map_package"]["stale"] is True
    _cli(env, "mappack", "rebuild-stale")
    client.sync()
    [latest] = client.scope("map_package").values()  # the superseded one came as deleted
    assert latest["version"] == manifest["version"] + 1
    second = MapPackUpdater(live_server.url, token, maps).update(client.scope("map_package"))
    assert (second.action, second.version) == ("delta", latest["version"])
    delta_size = next(f["size"] for f in latest["files"] if f["role"] == "delta")
    assert second.downloaded_bytes < delta_size + 10_000  # the delta and the style, not the tiles
    with sqlite3.connect(maps / "layers.mbtiles") as db:
        assert tiles_digest(db) == latest["tiles_sha256"]
    # clean up what other tests of the shared demo server might count
    feature = http.json("GET", "/api/v1/areas/demo/layers/gates", token=manager)[1]["features"][0]
    status, _, _ = http(
        "DELETE", f"/api/v1/areas/demo/features/{feature['id']}?version=1", token=manager
    )
    assert status == 204
