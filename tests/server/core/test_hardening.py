"""Hostile and careless input gets a clear 4xx problem document, never a 500: JSON nested without
end, text that is no Unicode, numbers that are no numbers."""

from __future__ import annotations

import gzip
import json

import pytest
from sqlalchemy import text

from schemas.json_body import MAX_DEPTH
from tests import factories
from tests.helpers import count_rows
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
