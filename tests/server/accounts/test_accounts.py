"""Sign-in, tokens, users, and bad input answered with a clear problem document."""

from __future__ import annotations

import pytest

from server.accounts.service import disable_user
from server.core.policy import SYSTEM
from tests import factories
from tests.helpers import count_rows


def _problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["type"] == f"/problems/{code}"
    assert body["status"] == status
    assert body["detail"]
    return body


@pytest.fixture
def park_admin(client, db):
    park = factories.area(db)
    admin = factories.user(db, park.id, "admin")
    db.commit()
    return park, factories.auth(factories.token(client, admin.username))


def test_sign_in_gives_a_token_that_works(client, db):
    park = factories.area(db)
    factories.user(db, park.id, "ranger", "kito")
    db.commit()
    response = client.post(
        "/api/v1/auth/token", json={"username": "kito", "password": factories.PASSWORD}
    )
    assert response.status_code == 201
    body = response.get_json()
    assert body["token_type"] == "Bearer" and body["access_token"].startswith("rsu_")
    me = client.get("/api/v1/me", headers=factories.auth(body["access_token"])).get_json()
    assert me["username"] == "kito"
    assert me["memberships"] == [
        {"area_id": str(park.id), "area_slug": park.slug, "role": "ranger"}
    ]


def test_wrong_password_and_unknown_user_are_told_apart_by_nobody(client, db):
    park = factories.area(db)
    factories.user(db, park.id, "ranger", "kito")
    db.commit()
    wrong = client.post(
        "/api/v1/auth/token", json={"username": "kito", "password": "nope-nope-nope"}
    )
    unknown = client.post(
        "/api/v1/auth/token", json={"username": "ghost", "password": "nope-nope-nope"}
    )
    assert (
        _problem(wrong, 401, "unauthenticated")["detail"]
        == _problem(unknown, 401, "unauthenticated")["detail"]
    )
    assert wrong.headers["WWW-Authenticate"].startswith("Bearer")


def test_no_token_is_401(client):
    _problem(client.get("/api/v1/areas"), 401, "unauthenticated")
    _problem(
        client.get("/api/v1/areas", headers={"Authorization": "Bearer rsu_made-up"}),
        401,
        "unauthenticated",
    )


def test_signing_out_revokes_the_token(client, db):
    park = factories.area(db)
    factories.user(db, park.id, "manager", "mina")
    db.commit()
    headers = factories.auth(factories.token(client, "mina"))
    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 204
    _problem(client.get("/api/v1/areas", headers=headers), 401, "token-revoked")


def test_disabling_a_user_takes_effect_on_the_next_request(client, db):
    park = factories.area(db)
    factories.user(db, park.id, "ranger", "kito")
    db.commit()
    headers = factories.auth(factories.token(client, "kito"))
    assert client.get("/api/v1/areas", headers=headers).status_code == 200
    disable_user(db, SYSTEM, "kito")
    db.commit()
    _problem(client.get("/api/v1/areas", headers=headers), 401, "token-revoked")
    _problem(
        client.post(
            "/api/v1/auth/token", json={"username": "kito", "password": factories.PASSWORD}
        ),
        401,
        "token-revoked",
    )


def test_admin_creates_a_user_who_can_sign_in(client, db, park_admin):
    park, headers = park_admin
    response = client.post(
        f"/api/v1/areas/{park.slug}/members",
        json={"username": "neo.ranger", "password": "long-and-unusual-1", "role": "ranger"},
        headers=headers,
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["memberships"][0]["role"] == "ranger"
    assert factories.token(client, "neo.ranger", "long-and-unusual-1")


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short", "must be at least 10 characters"),
        ("password123", "is too easy to guess"),
        ("aaaaaaaaaaaa", "is too easy to guess"),
        ("neo.ranger-secret", "must not contain the username"),
    ],
)
def test_weak_password_is_refused_and_nothing_written(client, db, park_admin, password, message):
    park, headers = park_admin
    users_before = count_rows(db, "users")
    response = client.post(
        f"/api/v1/areas/{park.slug}/members",
        json={"username": "neo.ranger", "password": password, "role": "ranger"},
        headers=headers,
    )
    body = _problem(response, 422, "validation-failed")
    assert message in body["errors"]["password"]
    assert count_rows(db, "users") == users_before


def test_duplicate_user_is_409_and_nothing_written(client, db, park_admin):
    park, headers = park_admin
    body = {"username": "twin", "password": "long-and-unusual-1", "role": "ranger"}
    assert (
        client.post(f"/api/v1/areas/{park.slug}/members", json=body, headers=headers).status_code
        == 201
    )
    users_before = count_rows(db, "users")
    again = client.post(f"/api/v1/areas/{park.slug}/members", json=body, headers=headers)
    assert _problem(again, 409, "already-exists")["errors"] == {"username": ["taken"]}
    assert count_rows(db, "users") == users_before


def test_unknown_area_is_404(client, db, park_admin):
    _, headers = park_admin
    _problem(client.get("/api/v1/areas/no-such-park/members", headers=headers), 404, "not-found")


def test_schema_errors_point_at_the_field(client, db, park_admin):
    park, headers = park_admin
    response = client.post(
        f"/api/v1/areas/{park.slug}/members",
        json={"username": "Bad Name!", "role": "chief", "colour": "green"},
        headers=headers,
    )
    errors = _problem(response, 422, "validation-failed")["errors"]
    assert set(errors) == {"/username", "/role", "/password", "/colour"}


def test_malformed_json_is_400(client, db, park_admin):
    park, headers = park_admin
    response = client.post(
        f"/api/v1/areas/{park.slug}/members",
        data=b'{"username": "x",',
        headers=headers | {"Content-Type": "application/json"},
    )
    assert "Invalid JSON body" in _problem(response, 400, "bad-request")["errors"]["/"][0]


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_not_json(client, db, constant):
    response = client.post(
        "/api/v1/auth/token",
        data=f'{{"username": "x", "password": {constant}}}',
        headers={"Content-Type": "application/json"},
    )
    assert (
        f"{constant} is not valid JSON" in _problem(response, 400, "bad-request")["errors"]["/"][0]
    )


def test_non_json_body_is_415(client):
    response = client.post(
        "/api/v1/auth/token", data="username=x", headers={"Content-Type": "text/plain"}
    )
    _problem(response, 415, "unsupported-media-type")


def test_oversized_body_is_413_and_nothing_written(client, db, park_admin):
    park, headers = park_admin
    users_before = count_rows(db, "users")
    response = client.post(
        f"/api/v1/areas/{park.slug}/members",
        json={"username": "big", "password": "x" * 70_000, "role": "ranger"},
        headers=headers,
    )
    _problem(response, 413, "request-too-large")
    assert count_rows(db, "users") == users_before


def test_unknown_route_is_a_problem_document(client):
    _problem(client.get("/api/v1/nowhere"), 404, "not-found")


def test_cookie_session_needs_csrf_header_for_changes(client, db):
    park = factories.area(db)
    factories.user(db, park.id, "admin", "boss")
    db.commit()
    login = client.post("/login", data={"username": "boss", "password": factories.PASSWORD})
    assert login.status_code == 302
    assert client.get("/api/v1/areas").status_code == 200
    body = {"username": "newbie", "password": "long-and-unusual-1", "role": "ranger"}
    _problem(client.post(f"/api/v1/areas/{park.slug}/members", json=body), 401, "unauthenticated")
    ok = client.post(
        f"/api/v1/areas/{park.slug}/members", json=body, headers={"X-Requested-With": "fetch"}
    )
    assert ok.status_code == 201


def test_problem_types_dereference(client):
    refused = client.get("/api/v1/areas", headers={"Authorization": "Bearer rsu_nope"}).get_json()
    described = client.get(refused["type"])
    assert described.status_code == 200
    assert described.get_json() == {
        "type": refused["type"],
        "status": 401,
        "title": "Authentication required",
    }
    assert client.get("/problems/device-revoked").get_json()["status"] == 401
    assert client.get("/problems/no-such-thing").status_code == 404
