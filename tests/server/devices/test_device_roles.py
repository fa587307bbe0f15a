"""A handheld does field work only, whoever carries it, and its token expires unless a sync renews
it: a device enrolled for a manager pushes, pulls and raises SOS but cannot mint enrolment codes,
manage people or devices, or issue alerts; partners get no device; a renewal lost on the way never
locks a handheld out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from server.accounts.models import Membership
from server.core.db import utcnow
from server.devices.models import Device
from sync.protocol import PROTOCOL_HEADER, PROTOCOL_VERSION
from tests import factories


@pytest.fixture
def park(db, client):
    area = factories.area(db)
    manager = factories.user(db, area.id, "manager")
    ranger = factories.user(db, area.id, "ranger")
    partner = factories.user(db, area.id, "partner")
    handheld = factories.device(db, area.id, manager.username)  # a manager's own handheld
    db.flush()
    return {
        "area": area,
        "manager": factories.auth(factories.token(client, manager.username)),
        "ranger": ranger,
        "partner": partner,
        "device": handheld,
    }


def _device_headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", PROTOCOL_HEADER: str(PROTOCOL_VERSION)}


def test_a_managers_handheld_does_field_work_only(client, park):
    area, device = park["area"], park["device"]
    headers = _device_headers(device.token)
    base = f"/api/v1/areas/{area.slug}"

    assert client.get("/api/v1/sync/pull", headers=headers).status_code == 200
    sos = client.post(
        "/api/v1/sos",
        json={
            "counter": 1,
            "position": {"type": "Point", "coordinates": [37.1, -3.4]},
            "sent_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
        },
        headers=headers,
    )
    assert sos.status_code == 201, sos.get_json()

    refused = {
        "enrolment code": client.post(
            f"{base}/enrolment-codes", json={"username": park["ranger"].username}, headers=headers
        ),
        "alert": client.post(
            f"{base}/alerts", json={"severity": "warning", "message": "go"}, headers=headers
        ),
        "device list": client.get(f"{base}/devices", headers=headers),
        "device revoke": client.post(f"/api/v1/devices/{device.device_id}/revoke", headers=headers),
        "members": client.get(f"{base}/members", headers=headers),
        "analytics": client.get(f"{base}/coverage", headers=headers),
    }
    assert {what: r.status_code for what, r in refused.items()} == dict.fromkeys(refused, 403)
    # the manager, signed in, may do all of it
    code = client.post(
        f"{base}/enrolment-codes",
        json={"username": park["ranger"].username},
        headers=park["manager"],
    )
    assert code.status_code == 201


def test_partners_cannot_be_given_a_device(client, db, park):
    area = park["area"]
    answer = client.post(
        f"/api/v1/areas/{area.slug}/enrolment-codes",
        json={"username": park["partner"].username},
        headers=park["manager"],
    )
    assert answer.status_code == 422
    assert "username" in answer.get_json()["errors"]


def test_a_code_made_for_a_ranger_since_made_a_partner_enrols_nothing(client, db, park):
    area, ranger = park["area"], park["ranger"]
    base = f"/api/v1/areas/{area.slug}"
    code = client.post(
        f"{base}/enrolment-codes", json={"username": ranger.username}, headers=park["manager"]
    ).get_json()["code"]
    db.execute(update(Membership).where(Membership.user_id == ranger.id).values(role="partner"))
    db.flush()
    assert client.post("/api/v1/devices/enrol", json={"code": code}).status_code == 400


def _expire_in(db, device_id, days: float) -> None:
    db.execute(
        update(Device)
        .where(Device.id == device_id)
        .values(token_expires_at=utcnow() + timedelta(days=days))
    )
    db.flush()


def test_an_expired_device_token_is_refused(client, db, park):
    device = park["device"]
    _expire_in(db, device.device_id, -1)
    answer = client.get("/api/v1/sync/pull", headers=_device_headers(device.token))
    assert answer.status_code == 401
    assert answer.get_json()["type"] == "/problems/device-token-expired"


def test_a_pull_renews_an_aging_token_and_the_old_one_works_until_the_new_is_used(client, db, park):
    device = park["device"]
    _expire_in(db, device.device_id, 10)  # issued 20 days ago

    first = client.get("/api/v1/sync/pull", headers=_device_headers(device.token)).get_json()

    renewed = first["renewed_token"]
    assert renewed["token"].startswith("rsd_") and renewed["token"] != device.token
    assert datetime.fromisoformat(renewed["expires_at"]) > utcnow() + timedelta(days=29)
    # a fresh token is not renewed again at once
    again = client.get("/api/v1/sync/pull", headers=_device_headers(renewed["token"]))
    assert again.status_code == 200 and "renewed_token" not in again.get_json()
    # once the new token has been used, the old one is retired
    old = client.get("/api/v1/sync/pull", headers=_device_headers(device.token))
    assert old.status_code == 401


def test_a_renewal_lost_on_the_way_never_locks_the_handheld_out(client, db, park):
    device = park["device"]
    _expire_in(db, device.device_id, 10)
    lost = client.get("/api/v1/sync/pull", headers=_device_headers(device.token)).get_json()
    lost_token = lost["renewed_token"]["token"]  # the answer never reached the handheld

    retried = client.get("/api/v1/sync/pull", headers=_device_headers(device.token))

    assert retried.status_code == 200
    received = retried.get_json()["renewed_token"]["token"]
    assert received not in (lost_token, device.token)
    assert client.get("/api/v1/sync/pull", headers=_device_headers(received)).status_code == 200
    assert client.get("/api/v1/sync/pull", headers=_device_headers(lost_token)).status_code == 401
