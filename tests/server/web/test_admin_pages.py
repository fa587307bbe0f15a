"""The area admins' pages as the server renders them: people with their roles, devices; who may
see them and who gets the forms."""

from __future__ import annotations

import pytest

from server.areas.service import update_area
from server.core.policy import SYSTEM
from server.devices import service as devices
from tests import factories
from tests.server.analytics.helpers import sign_in


@pytest.fixture
def park(db):
    area = factories.area(db)
    people = {role: factories.user(db, area.id, role) for role in ("admin", "manager", "ranger")}
    return {"area": area, **people}


def test_an_admin_gets_the_people_with_the_forms_to_change_them(client, park):
    sign_in(client, park["admin"])
    html = client.get(f"/areas/{park['area'].slug}/people").text
    for role in ("admin", "manager", "ranger"):
        assert f"<code>{park[role].username}</code>" in html
    assert 'id="add-person"' in html and 'data-action="disable"' in html
    assert f'/areas/{park["area"].slug}/enrolment"' in html  # in the navigation


def test_a_manager_sees_the_people_but_not_the_forms(client, park):
    sign_in(client, park["manager"])
    html = client.get(f"/areas/{park['area'].slug}/people?lang=fr").text
    assert f"<code>{park['ranger'].username}</code>" in html
    assert 'id="add-person"' not in html and 'data-action="disable"' not in html
    assert "Seuls les administrateurs de l’aire" in html


def test_a_ranger_is_kept_out(client, park):
    sign_in(client, park["ranger"])
    assert client.get(f"/areas/{park['area'].slug}/people").status_code == 403
    assert client.get(f"/areas/{park['area'].slug}/enrolment").status_code == 403


def test_enrolment_lists_devices_in_the_parks_time_and_who_may_get_one(client, db, park):
    area = park["area"]
    update_area(db, SYSTEM, area.slug, timezone="Africa/Nairobi")
    issued = devices.create_enrolment_code(
        db, SYSTEM, area.id, park["ranger"].username, ttl_hours=1
    )
    enrolled = devices.enrol(db, issued.code, name="Handheld 7")
    devices.revoke(db, SYSTEM, enrolled.device_id)
    sign_in(client, park["manager"])
    html = client.get(f"/areas/{area.slug}/enrolment").text
    assert "Handheld 7" in html and "EAT</time>" in html  # Nairobi's time, named
    assert "revoked" in html and 'data-action="revoke"' not in html
    assert f'<option value="{park["ranger"].username}">' in html
