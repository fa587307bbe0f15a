"""Enrolment with one-time codes, device tokens, revocation, and isolation between parks."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text, update

from server.accounts.service import disable_user
from server.core.db import utcnow
from server.core.policy import SYSTEM
from server.devices.models import EnrolmentCode
from server.devices.service import revoke
from tests import factories
from tests.helpers import count_rows


def _manager_and_ranger(client, db):
    park = factories.area(db)
    factories.user(db, park.id, "manager", f"mgr-{park.slug}")
    factories.user(db, park.id, "ranger", f"rgr-{park.slug}")
    db.commit()
    return park, factories.auth(factories.token(client, f"mgr-{park.slug}")), f"rgr-{park.slug}"


def _code(client, park, headers, ranger):
    response = client.post(
        f"/api/v1/areas/{park.slug}/enrolment-codes", json={"username": ranger}, headers=headers
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_manager_enrols_a_device_with_a_one_time_code(client, db):
    park, headers, ranger = _manager_and_ranger(client, db)
    issued = _code(client, park, headers, ranger)
    assert issued["qr_svg"].startswith("<svg") and "code=" in issued["enrol_uri"]
    response = client.post(
        "/api/v1/devices/enrol", json={"code": issued["code"], "app_version": "1.4.2"}
    )
    assert response.status_code == 201
    body = response.get_json()
    assert (
        body["token"].startswith("rsd_")
        and body["area_slug"] == park.slug
        and body["username"] == ranger
    )
    device_headers = factories.auth(body["token"])
    me = client.get(f"/api/v1/devices/{body['device_id']}", headers=device_headers)
    assert me.status_code == 200 and me.get_json()["app_version"] == "1.4.2"
    # The device sees its own area, as its ranger would.
    assert [a["slug"] for a in client.get("/api/v1/areas", headers=device_headers).get_json()] == [
        park.slug
    ]


def test_a_code_works_once(client, db):
    park, headers, ranger = _manager_and_ranger(client, db)
    code = _code(client, park, headers, ranger)["code"]
    assert client.post("/api/v1/devices/enrol", json={"code": code}).status_code == 201
    devices_before = count_rows(db, "devices")
    again = client.post("/api/v1/devices/enrol", json={"code": code})
    assert again.status_code == 400
    assert again.get_json()["type"] == "/problems/enrolment-code-invalid"
    assert "already been used" in again.get_json()["detail"]
    assert count_rows(db, "devices") == devices_before


def test_a_code_typed_by_hand_is_forgiven_case_and_dashes(client, db):
    park, headers, ranger = _manager_and_ranger(client, db)
    code = _code(client, park, headers, ranger)["code"]
    typed = code.replace("-", " ").lower()
    assert client.post("/api/v1/devices/enrol", json={"code": typed}).status_code == 201


def test_expired_and_unknown_codes_are_refused(client, db):
    park, headers, ranger = _manager_and_ranger(client, db)
    code = _code(client, park, headers, ranger)["code"]
    db.execute(update(EnrolmentCode).values(expires_at=utcnow() - timedelta(minutes=1)))
    db.commit()
    expired = client.post("/api/v1/devices/enrol", json={"code": code})
    assert expired.status_code == 400 and "expired" in expired.get_json()["detail"]
    unknown = client.post("/api/v1/devices/enrol", json={"code": "AAAA-BBBB-CCCC"})
    assert unknown.status_code == 400 and "not known" in unknown.get_json()["detail"]


def test_code_for_someone_outside_the_area_is_refused(client, db):
    park, headers, _ = _manager_and_ranger(client, db)
    elsewhere = factories.area(db, west=20.0)
    factories.user(db, elsewhere.id, "ranger", "stranger")
    db.commit()
    response = client.post(
        f"/api/v1/areas/{park.slug}/enrolment-codes", json={"username": "stranger"}, headers=headers
    )
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"username": ["not a member of this area"]}


def test_revoked_device_is_refused_on_its_next_request(client, db):
    park, headers, ranger = _manager_and_ranger(client, db)
    enrolment = factories.device(db, park.id, ranger)
    db.commit()
    device_headers = factories.auth(enrolment.token)
    assert client.get("/api/v1/areas", headers=device_headers).status_code == 200
    response = client.post(f"/api/v1/devices/{enrolment.device_id}/revoke", headers=headers)
    assert response.status_code == 200 and response.get_json()["revoked_at"]
    refused = client.get("/api/v1/areas", headers=device_headers)
    assert refused.status_code == 401
    assert refused.get_json()["type"] == "/problems/device-revoked"


def test_disabling_the_ranger_stops_their_devices(client, db):
    park, _, ranger = _manager_and_ranger(client, db)
    enrolment = factories.device(db, park.id, ranger)
    disable_user(db, SYSTEM, ranger)
    db.commit()
    refused = client.get("/api/v1/areas", headers=factories.auth(enrolment.token))
    assert refused.status_code == 401 and refused.get_json()["type"] == "/problems/device-revoked"


def test_rangers_may_not_revoke_devices(client, db):
    park, _, ranger = _manager_and_ranger(client, db)
    enrolment = factories.device(db, park.id, ranger)
    db.commit()
    ranger_headers = factories.auth(factories.token(client, ranger))
    response = client.post(f"/api/v1/devices/{enrolment.device_id}/revoke", headers=ranger_headers)
    assert response.status_code == 403


def test_other_parks_devices_do_not_exist_for_you(client, db):
    park_a, headers_a, _ = _manager_and_ranger(client, db)
    park_b, _, ranger_b = _manager_and_ranger(client, db)
    enrolment_b = factories.device(db, park_b.id, ranger_b)
    db.commit()
    for method, path in [
        ("get", f"/api/v1/devices/{enrolment_b.device_id}"),
        ("post", f"/api/v1/devices/{enrolment_b.device_id}/revoke"),
        ("get", f"/api/v1/areas/{park_b.slug}"),
        ("get", f"/api/v1/areas/{park_b.id}/devices"),
    ]:
        response = getattr(client, method)(path, headers=headers_a)
        assert response.status_code == 404, (path, response.get_json())
    # …and a device of park B sees nothing of park A either.
    device_b = factories.auth(enrolment_b.token)
    assert client.get(f"/api/v1/areas/{park_a.slug}", headers=device_b).status_code == 404


def test_revocation_is_audited(db):
    park = factories.area(db)
    ranger = factories.user(db, park.id, "ranger")
    enrolment = factories.device(db, park.id, ranger.username)
    revoke(db, SYSTEM, enrolment.device_id)
    actions = (
        db.execute(
            text("SELECT action FROM audit_log WHERE object_id = :d ORDER BY id"),
            {"d": str(enrolment.device_id)},
        )
        .scalars()
        .all()
    )
    assert actions == ["device.enrol", "device.revoke"]
