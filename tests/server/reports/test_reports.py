"""Managers triage reports; the device that filed one learns of it on its next pull."""

from __future__ import annotations

from tests import factories
from tests.server.sync import helpers as h


def _filed_report(client, db):
    park = h.park(db)
    factories.user(db, park.area_id, "manager", f"mgr-{park.slug}")
    db.commit()
    r = h.report()
    h.push(client, park, [r])
    return park, r["id"], factories.auth(factories.token(client, f"mgr-{park.slug}"))


def test_manager_moves_a_report_through_the_workflow_and_the_device_sees_it(
    committed_client, committed_db
):
    client = committed_client
    park, report_id, manager = _filed_report(client, committed_db)
    cursor = client.get("/api/v1/sync/pull", headers=park.headers).get_json()["cursor"]
    seen = client.get(f"/api/v1/reports/{report_id}", headers=manager).get_json()
    assert (seen["status"], seen["version"], seen["category"]) == ("new", 1, "poaching.snare")
    moved = client.post(
        f"/api/v1/reports/{report_id}/status",
        json={"status": "in_review", "base_version": 1},
        headers=manager,
    )
    assert moved.status_code == 200 and moved.get_json()["version"] == 2
    pulled = client.get(
        "/api/v1/sync/pull", query_string={"cursor": cursor}, headers=park.headers
    ).get_json()
    assert [(c["id"], c["data"]["status"], c["data"]["version"]) for c in pulled["changes"]] == [
        (report_id, "in_review", 2)
    ]


def test_stale_and_impossible_status_changes_are_refused(client, db):
    _, report_id, manager = _filed_report(client, db)
    url = f"/api/v1/reports/{report_id}/status"
    skip = client.post(url, json={"status": "closed", "base_version": 1}, headers=manager)
    assert skip.status_code == 422 and "from new to in_review" in skip.get_json()["detail"]
    assert (
        client.post(
            url, json={"status": "in_review", "base_version": 1}, headers=manager
        ).status_code
        == 200
    )
    stale = client.post(url, json={"status": "confirmed", "base_version": 1}, headers=manager)
    assert stale.status_code == 409 and stale.get_json()["current_version"] == 2


def test_rangers_may_not_triage_and_other_parks_see_nothing(client, db):
    park, report_id, _ = _filed_report(client, db)
    ranger = factories.auth(factories.token(client, park.ranger))
    url = f"/api/v1/reports/{report_id}/status"
    assert (
        client.post(
            url, json={"status": "in_review", "base_version": 1}, headers=ranger
        ).status_code
        == 403
    )
    assert client.get(f"/api/v1/reports/{report_id}", headers=ranger).status_code == 200
    elsewhere = factories.area(db, west=20.0)
    factories.user(db, elsewhere.id, "admin", "far-admin")
    db.commit()
    stranger = factories.auth(factories.token(client, "far-admin"))
    assert client.get(f"/api/v1/reports/{report_id}", headers=stranger).status_code == 404
    assert (
        client.post(
            url, json={"status": "in_review", "base_version": 1}, headers=stranger
        ).status_code
        == 404
    )
