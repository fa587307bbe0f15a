"""An area admin gives roles only to people they already manage: another park's people cannot be
taken in, and the answer for them is the answer for a name nobody has."""

from __future__ import annotations

from tests import factories


def test_an_admin_cannot_take_in_or_probe_another_parks_people(client, db):
    park, other = factories.area(db), factories.area(db, west=30.0)
    admin = factories.user(db, park.id, "admin")
    theirs = factories.user(db, other.id, "ranger")
    db.commit()
    headers = factories.auth(factories.token(client, admin.username))
    url = f"/api/v1/areas/{park.slug}/members"

    taken = client.put(f"{url}/{theirs.username}", json={"role": "manager"}, headers=headers)
    nobody = client.put(f"{url}/no-such-person", json={"role": "manager"}, headers=headers)

    assert taken.status_code == nobody.status_code == 404
    assert taken.get_json()["detail"].replace(theirs.username, "X") == nobody.get_json()[
        "detail"
    ].replace("no-such-person", "X")
    members = client.get(url, headers=headers).get_json()
    assert theirs.username not in [m["username"] for m in members]


def test_an_admin_changes_the_role_of_their_own_people(client, db):
    park = factories.area(db)
    admin = factories.user(db, park.id, "admin")
    ranger = factories.user(db, park.id, "ranger")
    db.commit()
    headers = factories.auth(factories.token(client, admin.username))
    answer = client.put(
        f"/api/v1/areas/{park.slug}/members/{ranger.username}",
        json={"role": "manager"},
        headers=headers,
    )
    assert answer.status_code == 200 and answer.get_json()["role"] == "manager"
