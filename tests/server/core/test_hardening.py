"""Hostile and careless input gets a clear 4xx problem document, never a 500: JSON nested without
end, text that is no Unicode, numbers that are no numbers."""

from __future__ import annotations

import base64
import gzip
import json

import pytest
from sqlalchemy import text

from schemas.json_body import MAX_DEPTH
from sync.protocol import PROTOCOL_HEADER
from tests import factories
from tests.helpers import count_rows
from tests.server.analytics.helpers import sign_in
from tests.server.evidence.helpers import TUS, create_upload, declare_attachment, patch_upload
from tests.server.sync import helpers as h

JSON = {"Content-Type": "application/json"}


def _problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["type"] == f"/problems/{code}"
    return body


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 5000])
def test_json_nested_past_the_cap_is_a_400_on_an_open_endpoint(client, depth):
    body = '{"username": ' + "[" * depth + "]" * depth + ', "password": "x"}'
    response = client.post("/api/v1/auth/token", data=body, headers=JSON)
    problem = _problem(response, 400, "bad-request")
    assert f"nested deeper than {MAX_DEPTH}" in problem["errors"]["/"][0]


def test_json_nested_to_the_cap_is_parsed(client):
    nested = "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)
    response = client.post(
        "/api/v1/auth/token", data=f'{{"username": {nested}, "password": "x"}}', headers=JSON
    )
    assert _problem(response, 422, "validation-failed")["errors"] == {
        "/username": ["Not a valid string."]
    }


def test_brackets_inside_strings_do_not_count_as_nesting(client, db):
    park = factories.area(db)
    factories.user(db, park.id, "ranger", "kito")
    db.commit()
    response = client.post(
        "/api/v1/auth/token",
        json={"username": "kito", "password": factories.PASSWORD, "x": "[{" * 200 + '\\"'},
    )
    _problem(response, 422, "validation-failed")  # the unknown field, not the brackets


def test_deep_nesting_in_a_gzipped_push_is_a_400(client, db):
    park = h.park(db)
    record = json.dumps(h.report()).replace('"count": 2', '"count": ' + "[" * 20_000)
    body = f'{{"device_time": "{h.T0.isoformat()}", "records": [{record}]}}'
    response = client.post(
        "/api/v1/sync/push",
        data=gzip.compress(body.encode()),
        headers=park.headers | JSON | {"Content-Encoding": "gzip"},
    )
    assert "nested deeper" in _problem(response, 400, "bad-request")["errors"]["/"][0]
    assert count_rows(db, "sync_sessions") == 0


def test_a_lone_surrogate_is_a_422_pointing_at_the_field(client, db):
    response = client.post(
        "/api/v1/auth/token",
        data=json.dumps({"username": "ki\ud800to", "password": "x"}),
        headers=JSON,
    )
    errors = _problem(response, 422, "validation-failed")["errors"]
    assert list(errors) == ["/username"] and "surrogate" in errors["/username"][0]


def test_a_lone_surrogate_deep_in_a_manager_request_is_a_422(client, db):
    park = factories.area(db)
    admin = factories.user(db, park.id, "admin")
    db.commit()
    headers = factories.auth(factories.token(client, admin.username))
    response = client.post(
        f"/api/v1/areas/{park.slug}/enrolment-codes",
        data=json.dumps({"username": "\udfffx"}),
        headers=headers | JSON,
    )
    assert list(_problem(response, 422, "validation-failed")["errors"]) == ["/username"]
    response = client.post(
        "/api/v1/devices/enrol",
        data=json.dumps({"code": "abc", "name": "tab\ud83d"}),
        headers=JSON,
    )
    assert list(_problem(response, 422, "validation-failed")["errors"]) == ["/name"]


def test_a_surrogate_pair_is_one_character_and_welcome(client):
    response = client.post(
        "/api/v1/auth/token",
        data=json.dumps({"username": "ranger \U0001f418", "password": "x"}),
        headers=JSON,
    )
    _problem(response, 401, "unauthenticated")


@pytest.mark.parametrize("number", ["1e400", "-1e400", "1E999"])
def test_a_number_too_large_for_a_double_is_a_422_pointing_at_it(client, number):
    response = client.post(
        "/api/v1/auth/token",
        data=f'{{"username": "kito", "password": "x", "extra": [0, {number}]}}',
        headers=JSON,
    )
    errors = _problem(response, 422, "validation-failed")["errors"]
    assert list(errors) == ["/extra/1"] and "finite" in errors["/extra/1"][0]


def test_one_record_holding_1e400_is_rejected_alone_and_kept(client, db):
    park = h.park(db)
    good, bad = h.report(), h.report()
    bad_text = json.dumps(bad).replace('"count": 2', '"count": 1e400')
    body = f'{{"device_time": "{h.T0.isoformat()}", "records": [{json.dumps(good)}, {bad_text}]}}'
    response = client.post("/api/v1/sync/push", data=body, headers=park.headers | JSON)
    assert response.status_code == 200, response.get_data(as_text=True)
    results = response.get_json()["results"]
    assert results[0]["verdict"] == "stored"
    assert (results[1]["verdict"], results[1]["code"], results[1]["pointer"]) == (
        "rejected",
        "non-finite-number",
        "/data/attributes/count",
    )
    kept = db.execute(
        text("SELECT raw, pointer FROM sync_quarantine WHERE record_id = :r"), {"r": bad["id"]}
    ).one()
    assert kept.pointer == "/data/attributes/count"
    assert json.loads(kept.raw["unstorable_json"])["data"]["attributes"]["count"] == float("inf")


# Non-ASCII digits pass str.isdigit() and then fail (²) or quietly succeed (１２) in int(); digits
# past 2**63 fit no column; five thousand of them are past what int() will read at all.
NOT_A_COUNT = ["²", "１２", "9" * 5000, "12 ", "-1", "+3"]


@pytest.mark.parametrize("raw", NOT_A_COUNT)
def test_a_protocol_version_that_is_no_number_is_a_400(client, db, raw):
    park = h.park(db)
    response = client.get("/api/v1/sync/pull", headers=park.headers | {PROTOCOL_HEADER: raw})
    _problem(response, 400, "protocol-unsupported")


@pytest.mark.parametrize("raw", NOT_A_COUNT)
def test_tus_lengths_and_offsets_that_are_no_number_are_a_400(client, db, raw):
    park = h.park(db)
    photo = b"\xff\xd8\xff" + b"\x00" * 100
    attachment_id = declare_attachment(client, park, photo)
    metadata = "attachment_id " + base64.b64encode(attachment_id.encode()).decode()
    response = client.post(
        "/api/v1/uploads",
        headers=park.headers | TUS | {"Upload-Length": raw, "Upload-Metadata": metadata},
    )
    assert "Upload-Length" in _problem(response, 400, "not-a-number")["errors"]
    location = create_upload(client, park, attachment_id, len(photo)).headers["Location"]
    response = patch_upload(client, park, location, 0, photo, **{"Upload-Offset": raw})
    assert "Upload-Offset" in _problem(response, 400, "not-a-number")["errors"]


@pytest.mark.parametrize("raw", NOT_A_COUNT)
def test_a_live_stream_resumed_from_no_number_is_a_400(client, db, raw):
    park = factories.area(db)
    manager = factories.user(db, park.id, "manager")
    db.commit()
    headers = factories.auth(factories.token(client, manager.username))
    path = f"/api/v1/areas/{park.slug}/live"
    response = client.get(path, query_string={"after": raw, "seconds": "1"}, headers=headers)
    _problem(response, 400, "not-a-number")
    response = client.get(
        path, query_string={"seconds": "1"}, headers=headers | {"Last-Event-ID": raw}
    )
    _problem(response, 400, "not-a-number")


@pytest.mark.parametrize("raw", NOT_A_COUNT)
def test_the_devices_page_with_stale_hours_of_no_number_is_a_400(client, db, raw):
    park = factories.area(db)
    manager = factories.user(db, park.id, "manager")
    db.commit()
    sign_in(client, manager)
    response = client.get(f"/areas/{park.slug}/devices", query_string={"stale_hours": raw})
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
