"""The reference device client against a real server process: record offline, fail to reach the
server, sync, sync again, and keep everything when revoked."""

from __future__ import annotations

import random
import subprocess
import urllib.error
from datetime import UTC, datetime

import pytest

from server.core.pgcluster import free_port
from sync.client import DeviceClient, SyncRefused
from sync.fieldsim import foot_patrol
from tests.live import BIN


def _cli(env, *args):
    return subprocess.run(
        [BIN / "rangersync", *args], env=env, capture_output=True, text=True, check=True
    ).stdout


@pytest.fixture
def device(live_server, tmp_path):
    code = _cli(live_server.env, "device", "enrol", "--area", "demo", "--user", "baraka").strip()
    enrolled = live_server.http.json("POST", "/api/v1/devices/enrol", {"code": code})[1]
    return enrolled


def test_record_offline_then_sync_exactly_once(live_server, device, tmp_path):
    waits = []
    offline = DeviceClient(f"http://127.0.0.1:{free_port()}", device["token"], tmp_path / "outbox.db",
                           retries=3, sleep=waits.append, rng=random.Random(1))  # fmt: skip
    patrol_id = offline.start_patrol(
        started_at=datetime(2026, 11, 23, 6, tzinfo=UTC), leader="baraka"
    )
    for fix in foot_patrol(
        (37.53, -3.362), datetime(2026, 11, 23, 6, tzinfo=UTC), 1000, random.Random(5)
    ):
        offline.record_fix(patrol_id, fix)
    for i in range(3):
        offline.record_report("wildlife_sighting", {"type": "Point", "coordinates": [37.54, -3.37 - i / 1000]},
                              datetime(2026, 11, 23, 7 + i, tzinfo=UTC), attributes={"species": "rhino", "count": 1},
                              patrol_id=patrol_id)  # fmt: skip
    with pytest.raises(urllib.error.URLError):
        offline.sync()  # no server there: nothing lost, nothing marked
    assert len(waits) == 3 and waits[1] > waits[0] * 1.2  # backoff grows (with jitter)
    assert offline.pending() > 0

    client = DeviceClient(
        live_server.url, device["token"], tmp_path / "outbox.db", sleep=waits.append
    )
    report = client.sync()
    assert report.pushed == {"stored": 1 + 3 + 3}  # the patrol, 1 000 fixes in 3 chunks, 3 reports
    assert client.pending() == 0
    assert len(client.scope("zone")) == 4 and len(client.scope("report")) == 3
    again = client.sync()
    assert again.pushed == {} and again.pulled == 0


def test_a_revoked_device_keeps_its_unsynced_data(live_server, device, tmp_path):
    client = DeviceClient(live_server.url, device["token"], tmp_path / "outbox.db")
    client.sync()
    _cli(live_server.env, "device", "revoke", device["device_id"])
    client.record_report("poaching.snare", {"type": "Point", "coordinates": [37.55, -3.4]},
                         datetime(2026, 11, 23, 9, tzinfo=UTC), attributes={"snare_type": "wire", "count": 1})  # fmt: skip
    with pytest.raises(SyncRefused) as refused:
        client.sync()
    assert (
        refused.value.status == 401 and refused.value.problem["type"] == "/problems/device-revoked"
    )
    assert client.pending() == 1  # still there, for when the device is enrolled again
