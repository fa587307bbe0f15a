"""The reference client keeps the token the server renews on sync: what waits in the outbox goes
with the new token, the pulled copy is kept, and an app restarted with the token it was enrolled
with finds the renewed one in its outbox."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime

import psycopg

from sync.device.client import DeviceClient
from tests.live import BIN


def _enrol(live_server) -> dict:
    code = subprocess.run(
        [BIN / "rangersync", "device", "enrol", "--area", "demo", "--user", "baraka"],
        env=live_server.env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    status, enrolled = live_server.http.json("POST", "/api/v1/devices/enrol", {"code": code})
    assert status == 201, enrolled
    return enrolled


def _age_token(live_server, device_id: str) -> None:
    """As if the token had been issued 20 days ago."""
    with psycopg.connect(live_server.env["DATABASE_URL"].replace("+psycopg", "")) as connection:
        connection.execute(
            "UPDATE devices SET token_expires_at = now() + interval '10 days' WHERE id = %s",
            (device_id,),
        )


def test_the_client_adopts_a_renewed_token_and_keeps_its_copy(live_server, tmp_path):
    enrolled = _enrol(live_server)
    client = DeviceClient(live_server.url, enrolled["token"], tmp_path / "outbox.db")
    client.sync()
    zones = len(client.scope("zone"))
    assert zones > 0
    _age_token(live_server, enrolled["device_id"])
    client.record_report(
        "wildlife_sighting",
        {"type": "Point", "coordinates": [37.54, -3.37]},
        datetime(2026, 11, 23, 7, tzinfo=UTC),
        attributes={"species": "rhino", "count": 1},
    )

    client.sync()  # pushes the report with the old token, then the pull renews it

    assert client.token != enrolled["token"]
    assert len(client.scope("zone")) == zones  # not dropped and pulled afresh
    report = client.sync()
    assert report.pushed == {} and report.pulled == 0
    # the old token is retired once the new one has been used
    status, _ = live_server.http.json("GET", "/api/v1/areas", token=enrolled["token"])
    assert status == 401
    # an app restarted with the token it was enrolled with uses the renewed one
    restarted = DeviceClient(live_server.url, enrolled["token"], tmp_path / "outbox.db")
    assert restarted.token == client.token
    restarted.record_report(
        "wildlife_sighting",
        {"type": "Point", "coordinates": [37.55, -3.37]},
        datetime(2026, 11, 23, 8, tzinfo=UTC),
        attributes={"species": "rhino", "count": 2},
    )
    assert restarted.sync().pushed == {"stored": 1}
