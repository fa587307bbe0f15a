"""Partner keys: issued by area admins, shown once, stored hashed, revocable at once, logged."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from click.testing import CliRunner
from sqlalchemy import text, update

from server.cli import main
from server.core.db import utcnow
from server.partners.models import PartnerKey
from tests.server.partners.helpers import bearer, issue, partner_park


def test_an_area_admin_issues_a_key_that_is_shown_once_and_stored_hashed(db, client):
    p = partner_park(db, client)
    response = client.post(
        f"/api/v1/areas/{p.slug}/partner-keys",
        json={"organisation": "Rhino Research Trust", "collections": ["observations"], "days": 30},
        headers=p.park.headers("admin"),
    )
    assert response.status_code == 201, response.get_json()
    issued = response.get_json()
    assert issued["key"].startswith("rsp_") and issued["areas"] == [p.slug]
    stored = db.execute(text("SELECT key_hash FROM partner_keys")).scalars().all()
    assert stored == [hashlib.sha256(issued["key"].encode()).digest()]
    listed = client.get(
        f"/api/v1/areas/{p.slug}/partner-keys", headers=p.park.headers("admin")
    ).get_json()
    assert [k["state"] for k in listed] == ["active"]
    assert "key" not in listed[0] and issued["key"] not in str(listed)
    assert listed[0]["collections"] == ["observations"]


def test_only_admins_of_the_area_issue_keys(db, client):
    p = partner_park(db, client)
    other = partner_park(db, client, west=38.0)
    body = {"organisation": "X"}
    for role, status in (("manager", 403), ("ranger", 403), ("partner", 403)):
        url = f"/api/v1/areas/{p.slug}/partner-keys"
        assert client.post(url, json=body, headers=p.park.headers(role)).status_code == status
    # an admin of another park cannot even see this one
    url = f"/api/v1/areas/{p.slug}/partner-keys"
    assert client.post(url, json=body, headers=other.park.headers("admin")).status_code == 404
    # nor stretch a key of her own park over it
    mixed = {"organisation": "X", "areas": [other.slug, p.slug]}
    response = client.post(
        f"/api/v1/areas/{other.slug}/partner-keys", json=mixed, headers=other.park.headers("admin")
    )
    assert response.status_code == 404


def test_bad_key_options_are_refused_with_the_field_named(db, client):
    p = partner_park(db, client)
    url = f"/api/v1/areas/{p.slug}/partner-keys"
    for body, field in (
        ({"organisation": "X", "collections": ["patrols"]}, "collections"),
        ({"organisation": "X", "networks": ["10.0.0.1/8"]}, "networks/0"),
        ({"organisation": "X", "rate_limit": "lots"}, "rate_limit"),
        ({"organisation": "X", "days": 0}, "/days"),
    ):
        response = client.post(url, json=body, headers=p.park.headers("admin"))
        assert response.status_code in (400, 422), body
        assert response.mimetype == "application/problem+json"
        assert any(field in k for k in response.get_json()["errors"]), response.get_json()


def test_a_key_works_as_bearer_token_and_as_query_parameter(db, client):
    p = partner_park(db, client)
    key = issue(db, p.slug)
    assert client.get("/ogc/collections", headers=bearer(key)).status_code == 200
    response = client.get(f"/ogc/collections?key={key}")
    assert response.status_code == 200
    ids = [c["id"] for c in response.get_json()["collections"]]
    assert f"{p.slug}.observations" in ids
    # links carry the key, so a client following them keeps working
    items = next(c for c in response.get_json()["collections"] if c["id"].endswith("zones"))
    assert f"key={key}" in items["links"][1]["href"]
    assert client.get("/ogc/collections?key=rsp_not-a-key").status_code == 401


def test_a_key_is_refused_by_the_rest_of_the_api(db, client):
    p = partner_park(db, client)
    key = issue(db, p.slug)
    for url in (
        "/api/v1/areas",
        f"/api/v1/areas/{p.slug}/layers/road",
        f"/tiles/zones/8/152/129.mvt?area={p.slug}",
        f"/api/v1/areas/{p.slug}/reports",
    ):
        assert client.get(url, headers=bearer(key)).status_code == 401, url


def test_revoked_and_expired_keys_fail_at_once(db, client):
    p = partner_park(db, client)
    key = issue(db, p.slug)
    other = issue(db, p.slug)
    assert client.get("/ogc/collections", headers=bearer(key)).status_code == 200
    key_id = db.execute(
        text("SELECT id FROM partner_keys WHERE key_hash = :h"),
        {"h": hashlib.sha256(key.encode()).digest()},
    ).scalar()
    response = client.delete(f"/api/v1/partner-keys/{key_id}", headers=p.park.headers("admin"))
    assert response.status_code == 200 and response.get_json()["state"] == "revoked"
    refused = client.get("/ogc/collections", headers=bearer(key))
    assert refused.status_code == 401
    assert refused.get_json()["type"] == "/problems/token-revoked"
    db.execute(update(PartnerKey).where(PartnerKey.id != key_id).values(expires_at=utcnow()))
    db.commit()
    assert client.get(f"/ogc/collections?key={other}").status_code == 401


def test_a_manager_cannot_revoke_and_a_stranger_cannot_find_a_key(db, client):
    p = partner_park(db, client)
    other = partner_park(db, client, west=38.0)
    issue(db, p.slug)
    key_id = db.execute(text("SELECT id FROM partner_keys")).scalar()
    url = f"/api/v1/partner-keys/{key_id}"
    assert client.delete(url, headers=p.park.headers("manager")).status_code == 403
    assert client.delete(url, headers=other.park.headers("admin")).status_code == 404


def test_a_key_is_only_accepted_from_its_networks(db, client):
    p = partner_park(db, client)
    outside = issue(db, p.slug, networks=["10.20.0.0/16"])
    inside = issue(db, p.slug, networks=["10.20.0.0/16", "127.0.0.0/8"])
    assert client.get("/ogc/", headers=bearer(outside)).status_code == 403
    assert client.get("/ogc/", headers=bearer(inside)).status_code == 200


def test_every_request_is_logged_and_the_log_is_for_the_areas_admins(db, client):
    p = partner_park(db, client)
    key = issue(db, p.slug)
    bbox = "36.9,-3.6,37.4,-3.2"
    ok = client.get(f"/ogc/collections/{p.slug}.zones/items?bbox={bbox}&key={key}")
    assert ok.status_code == 200
    assert client.get(f"/ogc/collections/{p.slug}.nothing/items?key={key}").status_code == 404
    log = client.get(
        f"/api/v1/areas/{p.slug}/partner-requests", headers=p.park.headers("admin")
    ).get_json()
    assert [(r["status"], r["collection"]) for r in log] == [
        (404, f"{p.slug}.nothing"),
        (200, f"{p.slug}.zones"),
    ]
    assert log[1]["features"] == 1 and log[1]["bbox"] == [36.9, -3.6, 37.4, -3.2]
    assert key not in str(log)  # the key itself is never kept
    assert log[1]["organisation"] == "Save the Rhino" and log[1]["remote_addr"] == "127.0.0.1"
    url = f"/api/v1/areas/{p.slug}/partner-requests"
    assert client.get(url, headers=p.park.headers("manager")).status_code == 403


def test_the_rate_limit_answers_429_with_retry_after(db, client):
    p = partner_park(db, client)
    key = issue(db, p.slug, rate_limit="3/minute")
    statuses = [client.get("/ogc/", headers=bearer(key)).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = client.get("/ogc/", headers=bearer(key))
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.get_json()["type"] == "/problems/too-many-requests"


def test_the_cli_issues_a_key_on_its_last_line_and_revokes_it(
    committed_db, fresh_engine, monkeypatch
):
    from tests.server.maps.helpers import build_park

    area, *_ = build_park(committed_db)
    committed_db.commit()
    monkeypatch.setenv("DATABASE_URL", fresh_engine.url.render_as_string(hide_password=False))
    result = CliRunner().invoke(
        main,
        [
            "partner",
            "key",
            "issue",
            "--area",
            area.slug,
            "--org",
            "WWF",
            "--collections",
            "observations,zones",
            "--days",
            "10",
        ],
    )
    assert result.exit_code == 0, result.output
    key = result.stdout.strip().splitlines()[-1]
    assert key.startswith("rsp_")
    row = committed_db.execute(text("SELECT id, collections, expires_at FROM partner_keys")).one()
    assert row.collections == ["observations", "zones"]
    assert timedelta(days=9) < row.expires_at - utcnow() <= timedelta(days=10)
    listed = CliRunner().invoke(main, ["partner", "key", "list", "--area", area.slug])
    assert "active" in listed.output and key not in listed.output
    revoked = CliRunner().invoke(main, ["partner", "key", "revoke", str(row.id)])
    assert revoked.exit_code == 0, revoked.output
    assert committed_db.execute(text("SELECT revoked_at IS NOT NULL FROM partner_keys")).scalar()
