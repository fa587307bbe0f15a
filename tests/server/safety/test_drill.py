"""The done-when, end to end over a real server: `rangersync simulate --sos` — the fleet, then an
SOS and an overdue patrol that reach the manager and a nearby handheld, which acknowledges them.
And the device's fallback: no data, so the SOS comes back as the signed text message."""

from __future__ import annotations

import subprocess
import uuid

import pytest

from sync.device.client import DeviceClient
from sync.protocol import sos as sos_text
from tests.live import BIN

pytestmark = pytest.mark.slow


def test_simulate_with_sos_reaches_the_manager_and_nearby_handhelds(live_servers, tmp_path):
    # A server of its own: the test asserts that the park's alerts are exactly the drill's two,
    # and other tests on the shared server raise alerts in the demo park.
    server = live_servers.start("drill")
    try:
        run = subprocess.run(
            [
                BIN / "rangersync",
                "simulate",
                "--server",
                server.url,
                "--devices",
                "1",
                "--hours",
                "0.2",
                "--sos",
            ],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
            cwd=tmp_path,
        )
        assert run.returncode == 0, run.stdout + run.stderr
        out = run.stdout
        assert "drill: SOS sent by http" in out
        assert "bystander handheld received critical sos" in out
        assert "bystander handheld received critical overdue_patrol" in out
        status, body = server.http.json(
            "POST", "/api/v1/auth/token", {"username": "manager", "password": "mweusi-demo-2026"}
        )
        assert status == 201
        status, alerts = server.http.json(
            "GET", "/api/v1/areas/demo/alerts", token=body["access_token"]
        )
        kinds = {a["kind"]: a for a in alerts}
        assert set(kinds) == {"sos", "overdue_patrol"}
        assert all(a["recipients"] >= a["acknowledged"] >= 3 for a in alerts)  # the drill's three
    finally:
        live_servers.stop(server)


def test_without_data_the_sos_comes_back_as_a_signed_text_message(tmp_path):
    token = "rsd_" + "x" * 40
    client = DeviceClient("http://127.0.0.1:9", token, tmp_path / "outbox.db", sleep=lambda s: None)
    device = uuid.uuid4()
    first = client.send_sos(str(device), 37.123456, -3.4, "Fell, ankle broken " + "!" * 200)
    second = client.send_sos(str(device), 37.123456, -3.4)
    assert (first.channel, first.answer, first.counter, second.counter) == ("text", None, 1, 2)
    assert len(first.message) == 160 and first.text.startswith("Fell, ankle broken !")
    parsed = sos_text.parse(first.message)
    assert sos_text.verify(parsed, sos_text.key_from_token(token))
    assert (parsed.device_id, parsed.counter, parsed.text) == (device, 1, first.text)
    assert (parsed.lon, parsed.lat) == (37.12346, -3.4)
    # The counter survives the app's restart: never reused.
    again = DeviceClient("http://127.0.0.1:9", token, tmp_path / "outbox.db", sleep=lambda s: None)
    assert again.send_sos(str(device), 37.1, -3.4).counter == 3
