"""Guessing is throttled (issue 13, item 3): sign-in over the API and the dashboard's form,
device enrolment and the SOS text webhook count failed attempts in limits every process shares;
past a few, 429 with Retry-After, even for the right secret; windows that grow and end."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from server.core.policy import SYSTEM
from server.devices.service import create_enrolment_code
from sync.protocol import sos as sos_text
from tests import factories
from tests.server.safety import helpers as s

ELSEWHERE = {"REMOTE_ADDR": "192.0.2.77"}


def _sign_in(client, username, password, environ=None):
    return client.post(
        "/api/v1/auth/token",
        json={"username": username, "password": password},
        environ_base=environ or {},
    )


def _time_passes(app, seconds: int) -> None:
    """Every counted attempt moved `seconds` into the past, as if that long had gone by."""
    with app.extensions["rangersync.limits"].engine.begin() as c:
        c.execute(
            text(
                "UPDATE rate_limit_hits SET at = at - make_interval(secs => :s),"
                " expires_at = expires_at - make_interval(secs => :s)"
            ),
            {"s": seconds},
        )


def test_fifty_wrong_passwords_then_the_right_one_is_refused(db, client, app):
    area = factories.area(db)
    factories.user(db, area.id, "manager", username="kibet")
    statuses = [_sign_in(client, "kibet", f"guess-{i}").status_code for i in range(50)]
    assert statuses[:5] == [401] * 5 and set(statuses[5:]) == {429}
    right = _sign_in(client, "kibet", factories.PASSWORD)
    assert right.status_code == 429
    assert right.mimetype == "application/problem+json"
    assert right.get_json()["type"].endswith("/too-many-requests")
    assert 0 < int(right.headers["Retry-After"]) <= 60
    assert "access_token" not in right.get_json()
    # the same account from another address is not locked out (nobody can lock a person out)
    assert _sign_in(client, "kibet", factories.PASSWORD, ELSEWHERE).status_code == 201
    # nor for ever: once the window has passed, the right password works, and clears the count
    _time_passes(app, 61)
    assert _sign_in(client, "kibet", factories.PASSWORD).status_code == 201
    assert _sign_in(client, "kibet", "one more typo").status_code == 401


def test_the_wait_grows_a_minute_then_ten_then_an_hour(db, client, app):
    area = factories.area(db)
    factories.user(db, area.id, "ranger", username="neema")
    waits = []
    for pause in (61, 601, 61, 0):  # five guesses, refused, then wait out the minute (or ten)
        for i in range(5):
            assert _sign_in(client, "neema", f"guess-{i}").status_code == 401
        refused = _sign_in(client, "neema", factories.PASSWORD)
        assert refused.status_code == 429
        waits.append(int(refused.headers["Retry-After"]))
        _time_passes(app, pause)
    # 5 in a minute: a minute; 10 in ten minutes: ten; 20 in an hour: what is left of the hour
    assert waits[0] <= 60 and 60 < waits[1] <= 600 and waits[2] <= 60
    assert 600 < waits[3] <= 3600
    _time_passes(app, 3600)
    assert _sign_in(client, "neema", factories.PASSWORD).status_code == 201


def test_one_address_guessing_many_accounts_is_throttled_as_a_whole(db, client):
    area = factories.area(db)
    factories.user(db, area.id, "manager", username="amina")
    for i in range(30):  # a password spray: one guess per account
        assert _sign_in(client, f"user{i}", "Password1").status_code == 401
    assert _sign_in(client, "amina", factories.PASSWORD).status_code == 429
    assert _sign_in(client, "amina", factories.PASSWORD, ELSEWHERE).status_code == 201


def test_the_sign_in_form_says_so_in_html(db, client):
    area = factories.area(db)
    factories.user(db, area.id, "manager", username="boss")
    for i in range(5):
        wrong = client.post("/login", data={"username": "boss", "password": f"x{i}"})
        assert wrong.status_code == 401
    refused = client.post("/login", data={"username": "Boss ", "password": factories.PASSWORD})
    assert refused.status_code == 429 and refused.mimetype == "text/html"
    assert int(refused.headers["Retry-After"]) > 0
    page = refused.get_data(as_text=True)
    assert "Too many failed sign-ins" in page and "Wait" in page
    french = client.post(
        "/login",
        data={"username": "boss", "password": factories.PASSWORD},
        headers={"Accept-Language": "fr"},
    )
    assert french.status_code == 429 and "Trop de connexions échouées" in french.text
    assert client.get("/dashboard").status_code == 302  # not signed in


def test_enrolment_codes_are_not_guessed(db, client):
    area = factories.area(db)
    ranger = factories.user(db, area.id, "ranger")
    for i in range(10):
        bad = client.post("/api/v1/devices/enrol", json={"code": f"ABCD-EFGH-{i:04d}"})
        assert bad.status_code == 400, bad.get_json()
    code = create_enrolment_code(db, SYSTEM, area.id, ranger.username, ttl_hours=1).code
    refused = client.post("/api/v1/devices/enrol", json={"code": code})
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    enrolled = client.post("/api/v1/devices/enrol", json={"code": code}, environ_base=ELSEWHERE)
    assert enrolled.status_code == 201


HERE = (37.10, -3.40)


def test_sos_texts_throttled_per_sender_never_the_devices_own_sos(db, client):
    park = s.park(db, client, devices=1)
    (caller,) = park.devices
    key = sos_text.key_from_token(caller.token)
    now = datetime.now(UTC)
    # authentic messages never count, however many
    for counter in range(1, 13):
        message = sos_text.encode(key, caller.device_id, counter, HERE[1], HERE[0], now)
        posted = client.post("/api/v1/sos/text", json={"text": message, "sender": "+255711"})
        assert posted.status_code == 201, posted.get_json()
    # forged ones do: ten from one number, then that number waits
    forged = sos_text.encode(b"k" * 32, caller.device_id, 99, HERE[1], HERE[0], now)
    for _ in range(10):
        refused = client.post("/api/v1/sos/text", json={"text": forged, "sender": "+255799"})
        assert refused.status_code == 401
    message = sos_text.encode(key, caller.device_id, 50, HERE[1], HERE[0], now)
    throttled = client.post("/api/v1/sos/text", json={"text": message, "sender": "+255799"})
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) <= 300
    # other numbers through the same gateway still get through
    ok = client.post("/api/v1/sos/text", json={"text": message, "sender": "+255711"})
    assert ok.status_code == 201
    # and the device's own SOS over the API is never throttled
    for counter in range(60, 75):
        pushed = client.post(
            "/api/v1/sos",
            json={
                "counter": counter,
                "position": {"type": "Point", "coordinates": list(HERE)},
                "sent_at": now.replace(microsecond=0).isoformat(),
                "text": "Shot at",
            },
            headers=caller.headers,
        )
        assert pushed.status_code == 201, pushed.get_json()
