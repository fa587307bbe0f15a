"""SOS over HTTP and as a signed text message: one critical alert to managers and nearby patrols;
retries answered again, forgeries and replays refused."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.core import tokens
from sync.protocol import sos as sos_text
from tests.server.safety import helpers as s

HERE = (37.10, -3.40)


def _sos_body(counter: int = 1, lon: float = HERE[0], lat: float = HERE[1], text="Shot at"):
    return {
        "counter": counter,
        "position": {"type": "Point", "coordinates": [lon, lat]},
        "sent_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "text": text,
    }


def test_an_sos_over_http_alerts_managers_and_patrols_nearby_once(committed_client, committed_db):
    client = committed_client
    park = s.park(committed_db, client, devices=3)
    caller, near, far = park.devices
    s.walk(client, near, HERE[0] + 0.02, HERE[1])  # about 2 km away
    s.walk(client, far, HERE[0] + 0.2, HERE[1])  # about 22 km away
    body = _sos_body()
    first = client.post("/api/v1/sos", json=body, headers=caller.headers)
    assert first.status_code == 201, first.get_json()
    sos = first.get_json()
    assert sos["duplicate"] is False and sos["channel"] == "http"
    assert sos["id"] == str(sos_text.sos_id(caller.device_id, 1))
    retry = client.post("/api/v1/sos", json=body, headers=caller.headers)
    assert retry.status_code == 200
    assert retry.get_json() | {"duplicate": False} == sos and retry.get_json()["duplicate"]
    different = client.post("/api/v1/sos", json=body | {"text": "other"}, headers=caller.headers)
    assert different.status_code == 409
    alerts = client.get(f"/api/v1/areas/{park.slug}/alerts", headers=park.manager).get_json()
    assert [(a["id"], a["kind"], a["severity"]) for a in alerts] == [
        (sos["alert_id"], "sos", "critical")
    ]
    assert "Shot at" in alerts[0]["message"] and alerts[0]["radius_m"] == 10_000
    assert sos["alert_id"] in s.pull_alerts(client, near)[0]
    assert sos["alert_id"] not in s.pull_alerts(client, far)[0]
    assert sos["alert_id"] in s.pull_alerts(client, caller)[0]  # its own position is the SOS's


def test_an_sos_by_text_message_is_the_same_sos_and_a_replay_is_refused(
    committed_client, committed_db
):
    client = committed_client
    park = s.park(committed_db, client, devices=2)
    caller, near = park.devices
    s.walk(client, near, HERE[0] + 0.01, HERE[1])
    key = sos_text.key_from_token(caller.token)
    now = datetime.now(UTC)
    message = sos_text.encode(key, caller.device_id, 3, HERE[1], HERE[0], now, "Leg wound")
    assert len(message) <= 160
    posted = client.post("/api/v1/sos/text", json={"text": message, "sender": "+255700000001"})
    assert posted.status_code == 201, posted.get_json()
    assert posted.get_json()["channel"] == "sms"
    replay = client.post("/api/v1/sos/text", json={"text": message, "sender": "+255700000001"})
    assert replay.status_code == 409
    assert replay.get_json()["type"].endswith("/sos-replayed")
    # The device also got through by data with the same counter: the same SOS, not a second.
    http = client.post(
        "/api/v1/sos",
        json=_sos_body(3)
        | {
            "position": {"type": "Point", "coordinates": [HERE[0], HERE[1]]},
            "sent_at": datetime.fromtimestamp(int(now.timestamp()), UTC).isoformat(),
            "text": "Leg wound",
        },
        headers=caller.headers,
    )
    assert http.status_code == 200 and http.get_json()["duplicate"] is True
    alerts = client.get(f"/api/v1/areas/{park.slug}/alerts", headers=park.manager).get_json()
    assert len(alerts) == 1 and "by text message" in alerts[0]["message"]
    assert alerts[0]["id"] in s.pull_alerts(client, near)[0]


def test_forged_and_malformed_text_messages_are_refused(committed_client, committed_db):
    client = committed_client
    park = s.park(committed_db, client, devices=2)
    caller, other = park.devices
    now = datetime.now(UTC)
    genuine = sos_text.encode(
        sos_text.key_from_token(caller.token), caller.device_id, 1, HERE[1], HERE[0], now, "Help"
    )
    wrong_key = sos_text.encode(
        sos_text.key_from_token(other.token), caller.device_id, 1, HERE[1], HERE[0], now, "Help"
    )
    moved = genuine.replace(f"{HERE[1]:.5f}", f"{HERE[1] + 0.1:.5f}")
    retexted = genuine[:-4] + "Safe"
    unknown = sos_text.encode(b"k" * 32, uuid.uuid4(), 1, HERE[1], HERE[0], now)
    for forged in (wrong_key, moved, retexted, unknown):
        response = client.post("/api/v1/sos/text", json={"text": forged})
        assert response.status_code == 401, (forged, response.get_json())
        assert response.content_type == "application/problem+json"
    for junk in ("HELP me please", "RS1 x", genuine + " " + "x" * 160):
        response = client.post("/api/v1/sos/text", json={"text": junk})
        assert response.status_code == 422, response.get_json()
    alerts = client.get(f"/api/v1/areas/{park.slug}/alerts", headers=park.manager).get_json()
    assert alerts == []
    assert client.post("/api/v1/sos/text", json={"text": genuine}).status_code == 201


def test_bad_http_sos_is_refused_with_the_reason(client, db):
    park = s.park(db, client, devices=1)
    (device,) = park.devices
    bad = [
        ({"counter": 0}, "counter"),
        ({"counter": "1"}, "counter"),
        ({"position": {"type": "Point", "coordinates": [200, 0]}}, "position"),
        ({"position": {"type": "LineString", "coordinates": [[1, 1], [2, 2]]}}, "position"),
        ({"sent_at": "2026-11-25T10:00:00"}, "sent_at"),
        ({"text": "x" * 501}, "text"),
    ]
    for change, field in bad:
        response = client.post("/api/v1/sos", json=_sos_body() | change, headers=device.headers)
        assert response.status_code == 422, (change, response.get_json())
        assert any(field in key for key in response.get_json()["errors"])
    manager = client.post("/api/v1/sos", json=_sos_body(), headers=park.manager)
    assert manager.status_code == 403


def test_the_device_key_is_derived_from_what_the_server_stores():
    token = tokens.new_token(tokens.DEVICE_TOKEN_PREFIX)
    assert tokens.digest(token) == hashlib.sha256(token.encode()).digest()
    assert sos_text.key_from_token(token) == sos_text.key_from_token_hash(tokens.digest(token))


@settings(max_examples=300, deadline=None)
@given(
    counter=st.integers(1, 36**8 - 1),
    lat=st.floats(-90, 90),
    lon=st.floats(-180, 180),
    seconds=st.integers(0, 4_000_000_000),
    text=st.one_of(
        st.none(),
        st.text(st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=120),
    ),
)
def test_the_text_encoding_round_trips_or_refuses_to_overflow(counter, lat, lon, seconds, text):
    key, device = b"0" * 32, uuid.UUID(int=counter)
    sent_at = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds)
    if text is not None and text != text.strip():
        with pytest.raises(sos_text.SosFormatError):
            sos_text.encode(key, device, counter, lat, lon, sent_at, text)
        text = text.strip() or None
    room = sos_text.room_for_text(device, counter, lat, lon, sent_at)
    try:
        message = sos_text.encode(key, device, counter, lat, lon, sent_at, text)
    except sos_text.SosFormatError:
        assert text is not None and len(text) > room
        return
    assert len(message) <= 160
    assert text is None or len(text) <= room
    parsed = sos_text.parse(message)
    assert sos_text.verify(parsed, key) and not sos_text.verify(parsed, b"1" * 32)
    assert (parsed.device_id, parsed.counter, parsed.sent_at, parsed.text) == (
        device,
        counter,
        sent_at,
        text,
    )
    assert abs(parsed.lat - lat) <= 5e-6 and abs(parsed.lon - lon) <= 5e-6


def test_the_text_webhook_can_require_the_gateways_token(test_config, engine, session_factory):
    from dataclasses import replace

    from server.app import create_app

    app = create_app(replace(test_config, sos_webhook_token="gw-secret"), engine=engine)
    app.extensions["rangersync"].session_factory = session_factory
    client = app.test_client()
    junk = {"text": "HELP"}
    assert client.post("/api/v1/sos/text", json=junk).status_code == 401
    wrong = client.post("/api/v1/sos/text", json=junk, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    right = client.post(
        "/api/v1/sos/text", json=junk, headers={"Authorization": "Bearer gw-secret"}
    )
    assert right.status_code == 422  # through the gate, refused as not an SOS
