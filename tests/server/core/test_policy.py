"""The role × action policy: generated from the policy table, checked in the service layer and
over HTTP for every endpoint that guards an action."""

from __future__ import annotations

import uuid

import pytest

from server.core.errors import Forbidden, NotFound
from server.core.policy import POLICY, ROLES, Action, Actor, authorize
from tests import factories

AREA = uuid.uuid4()
OTHER_AREA = uuid.uuid4()


def test_every_action_has_a_policy_entry():
    assert set(POLICY) == set(Action)


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("role", ROLES)
def test_authorize_follows_the_table(role: str, action: Action):
    actor = Actor("user", uuid.uuid4(), {AREA: role})
    if role in POLICY[action]:
        authorize(actor, action, AREA)
    else:
        with pytest.raises(Forbidden):
            authorize(actor, action, AREA)
    # Whatever the role at home, another park's objects do not exist for this actor.
    with pytest.raises(NotFound):
        authorize(actor, action, OTHER_AREA)


def test_partners_never_see_where_rangers_are():
    """Written out by hand, not derived from the table: this is the promise to the field."""
    partner = Actor("user", uuid.uuid4(), {AREA: "partner"})
    for action in (
        Action.PATROL_VIEW,
        Action.REPORT_VIEW,
        Action.EVIDENCE_VIEW,
        Action.ALERT_VIEW,
        Action.DEVICE_VIEW,
        Action.ANALYTICS_VIEW,
        Action.SYNC,
    ):
        assert not partner.may(action, AREA), action


def test_superuser_may_do_everything_everywhere():
    root = Actor("user", uuid.uuid4(), {}, is_superuser=True)
    assert all(root.may(action, OTHER_AREA) for action in Action)


# The endpoints that guard an action, with a request body where they need one; {area} and
# {ranger} are filled in per test.
ENDPOINTS = {
    Action.AREA_VIEW: ("get", "/api/v1/areas/{area}", None),
    Action.MEMBER_VIEW: ("get", "/api/v1/areas/{area}/members", None),
    Action.MEMBER_MANAGE: (
        "post",
        "/api/v1/areas/{area}/members",
        {"username": "newcomer", "password": "a-long-enough-secret", "role": "ranger"},
    ),
    Action.DEVICE_VIEW: ("get", "/api/v1/areas/{area}/devices", None),
    Action.DEVICE_ENROL: ("post", "/api/v1/areas/{area}/enrolment-codes", {"username": "{ranger}"}),
}


def _request(client, action, area_slug, ranger, access_token):
    method, path, body = ENDPOINTS[action]
    if body is not None:
        body = {k: v.replace("{ranger}", ranger) for k, v in body.items()}
    return getattr(client, method)(
        path.format(area=area_slug), json=body, headers=factories.auth(access_token)
    )


@pytest.mark.parametrize("action", list(ENDPOINTS))
@pytest.mark.parametrize("role", ROLES)
def test_http_endpoints_follow_the_table(client, db, role: str, action: Action):
    park = factories.area(db)
    caller = factories.user(db, park.id, role)
    ranger = factories.user(db, park.id, "ranger")
    db.commit()
    response = _request(
        client, action, park.slug, ranger.username, factories.token(client, caller.username)
    )
    if role in POLICY[action]:
        assert response.status_code in (200, 201), response.get_json()
    else:
        assert response.status_code == 403
        assert response.get_json()["type"] == "/problems/forbidden"


@pytest.mark.parametrize("action", list(ENDPOINTS))
def test_http_endpoints_hide_other_parks(client, db, action: Action):
    home, away = factories.area(db), factories.area(db, west=30.0)
    admin = factories.user(db, home.id, "admin")
    away_ranger = factories.user(db, away.id, "ranger")
    db.commit()
    response = _request(
        client, action, away.slug, away_ranger.username, factories.token(client, admin.username)
    )
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
