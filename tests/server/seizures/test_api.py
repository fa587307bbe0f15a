"""Managers file, read and change seizures; partners never see one; a manager sees only their
own parks' seizures."""

from __future__ import annotations

import uuid

from sqlalchemy import update

from server.accounts.models import Membership
from tests import factories
from tests.helpers import count_rows
from tests.server.seizures import helpers as s
from tests.server.sync import helpers as h


def _people(db, park):
    manager = factories.user(db, park.area_id, "manager")
    partner = factories.user(db, park.area_id, "partner")
    other = h.park(db, west=30.0)
    stranger = factories.user(db, other.area_id, "manager")
    db.commit()
    return manager, partner, other, stranger


def test_a_manager_files_reads_and_resolves_a_seizure(client, db):
    park, taxa = h.park(db), s.taxa(db)
    manager, *_ = _people(db, park)
    headers = factories.auth(factories.token(client, manager.username))
    seizure_id = str(uuid.uuid4())
    body = s.seizure_data(
        [{"taxon_text": "unidentified tortoise", "term": "LIV", "unit": "NUM", "quantity": 7}]
    ) | {"id": seizure_id}
    created = client.post(f"/api/v1/areas/{park.slug}/seizures", json=body, headers=headers)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["version"] == 1
    assert created.get_json()["items"][0]["term_label"] == "live"
    again = client.post(f"/api/v1/areas/{park.slug}/seizures", json=body, headers=headers)
    assert again.status_code == 409 and again.get_json()["current_version"] == 1
    assert count_rows(db, "seizures") == 1
    resolved = [
        {"taxon_id": taxa["Astrochelys radiata"], "term": "LIV", "unit": "NUM", "quantity": 7}
    ]
    change = {"base_version": 1, "changes": {"items": resolved}}
    changed = client.patch(f"/api/v1/seizures/{seizure_id}", json=change, headers=headers)
    assert changed.status_code == 200, changed.get_json()
    item = changed.get_json()["items"][0]
    assert item["scientific_name"] == "Astrochelys radiata" and item["cites_appendix"] == "I"
    stale = client.patch(f"/api/v1/seizures/{seizure_id}", json=change, headers=headers)
    assert stale.status_code == 409 and stale.get_json()["current_version"] == 2
    versions = client.get(f"/api/v1/seizures/{seizure_id}/versions", headers=headers).get_json()
    assert [v["data"]["items"][0]["taxon_text"] for v in versions] == [
        "unidentified tortoise",
        None,
    ]
    listed = client.get(f"/api/v1/areas/{park.slug}/seizures", headers=headers).get_json()
    assert [x["id"] for x in listed] == [seizure_id]


def test_a_bad_field_from_a_manager_is_a_problem_naming_the_field(client, db):
    park, taxa = h.park(db), s.taxa(db)
    manager, *_ = _people(db, park)
    headers = factories.auth(factories.token(client, manager.username))
    body = s.seizure_data([s.scales(taxa["Manis tricuspis"], unit="NUM")])
    answer = client.post(f"/api/v1/areas/{park.slug}/seizures", json=body, headers=headers)
    assert answer.status_code == 422
    assert answer.headers["Content-Type"].startswith("application/problem+json")
    assert "not a unit for scales" in str(answer.get_json()["errors"])
    body = s.seizure_data([s.scales(str(uuid.uuid4()))])
    answer = client.post(f"/api/v1/areas/{park.slug}/seizures", json=body, headers=headers)
    assert answer.status_code == 422
    assert answer.get_json()["errors"] == {"/items/0/taxon_id": [answer.get_json()["detail"]]}
    assert count_rows(db, "seizures") == 0


def test_partners_never_see_a_seizure_and_managers_only_their_parks(client, db):
    park, taxa = h.park(db), s.taxa(db)
    manager, partner, other, stranger = _people(db, park)
    record = s.seizure([s.scales(taxa["Manis tricuspis"])])
    assert h.verdicts(h.push(client, park, [record])) == ["stored"]
    mine = factories.auth(factories.token(client, manager.username))
    assert client.get(f"/api/v1/seizures/{record['id']}", headers=mine).status_code == 200
    partner_headers = factories.auth(factories.token(client, partner.username))
    for url in (f"/api/v1/seizures/{record['id']}", f"/api/v1/areas/{park.slug}/seizures"):
        assert client.get(url, headers=partner_headers).status_code == 403
    body = s.seizure_data([s.scales(taxa["Manis tricuspis"])])
    filed = client.post(f"/api/v1/areas/{park.slug}/seizures", json=body, headers=partner_headers)
    assert filed.status_code == 403
    theirs = factories.auth(factories.token(client, stranger.username))
    assert client.get(f"/api/v1/seizures/{record['id']}", headers=theirs).status_code == 404
    assert client.get(f"/api/v1/areas/{park.slug}/seizures", headers=theirs).status_code == 404
    assert client.get(f"/api/v1/areas/{other.slug}/seizures", headers=theirs).get_json() == []
    change = {"base_version": 1, "changes": {"notes": "mine now"}}
    assert (
        client.patch(f"/api/v1/seizures/{record['id']}", json=change, headers=theirs).status_code
        == 404
    )


def test_a_device_of_a_ranger_made_a_partner_cannot_push_a_seizure(client, db):
    # partners are never given a device; a ranger's device keeps no role once they become one
    park, taxa = h.park(db), s.taxa(db)
    ranger = factories.user(db, park.area_id, "ranger")
    enrolment = factories.device(db, park.area_id, ranger.username)
    db.execute(update(Membership).where(Membership.user_id == ranger.id).values(role="partner"))
    db.commit()
    device = h.Park(park.area_id, park.slug, ranger.username, enrolment.device_id, enrolment.token)
    response = h.push(client, device, [s.seizure([s.scales(taxa["Manis tricuspis"])])])
    assert response.status_code in (403, 404), response.get_json()
    assert count_rows(db, "seizures") == 0


def test_a_manager_change_is_checked_field_by_field(client, db):
    park, taxa = h.park(db), s.taxa(db)
    manager, *_ = _people(db, park)
    headers = factories.auth(factories.token(client, manager.username))
    record = s.seizure([s.scales(taxa["Manis tricuspis"])], notes="bagged")
    assert h.verdicts(h.push(client, park, [record])) == ["stored"]
    url = f"/api/v1/seizures/{record['id']}"
    unknown = client.patch(
        url, json={"base_version": 1, "changes": {"colour": "red"}}, headers=headers
    )
    assert unknown.status_code == 422 and list(unknown.get_json()["errors"]) == ["/colour"]
    future = client.patch(
        url,
        json={"base_version": 1, "changes": {"seized_at": "2999-01-01T00:00:00+00:00"}},
        headers=headers,
    )
    assert future.status_code == 422 and "future" in future.get_json()["detail"]
    cleared = client.patch(
        url, json={"base_version": 1, "changes": {"notes": None}}, headers=headers
    )
    assert cleared.status_code == 200 and cleared.get_json()["notes"] is None
    assert cleared.get_json()["origin_countries"] == ["TZ"] and cleared.get_json()["version"] == 2


def test_the_device_pulls_its_seizure_as_a_manager_changed_it(committed_client, committed_db):
    from tests.server.sync.test_pull import pull_all

    client, db = committed_client, committed_db
    park, taxa = h.park(db), s.taxa(db)
    manager, *_ = _people(db, park)
    record = s.seizure(
        [{"taxon_text": "unidentified pangolin", "term": "SCA", "unit": "kg", "quantity": 4}]
    )
    assert h.verdicts(h.push(client, park, [record])) == ["stored"]
    _, cursor, _ = pull_all(client, park)
    headers = factories.auth(factories.token(client, manager.username))
    resolved = [s.scales(taxa["Manis gigantea"], 4)]
    change = {"base_version": 1, "changes": {"items": resolved}}
    assert (
        client.patch(f"/api/v1/seizures/{record['id']}", json=change, headers=headers).status_code
        == 200
    )
    changes, _, _ = pull_all(client, park, cursor)
    mine = [c for c in changes if c["kind"] == "seizure"]
    assert len(mine) == 1 and mine[0]["id"] == record["id"]
    assert mine[0]["data"]["version"] == 2
    assert mine[0]["data"]["items"][0]["taxon_id"] == taxa["Manis gigantea"]
