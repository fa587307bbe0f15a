"""The dashboard's pages as the server renders them: who gets which page, and bad input."""

from __future__ import annotations

import pytest

from tests import factories
from tests.server.analytics.helpers import patrol, sign_in, walk

PAGES = ["map", "reports", "patrols", "analytics", "devices", "review", "alerts"]


@pytest.fixture
def park(db):
    area = factories.area(db)
    other = factories.area(db, west=30.0)
    p = patrol(db, area.id, walk(5))
    return {
        "area": area,
        "patrol": p,
        "other": other,
        "manager": factories.user(db, area.id, "manager"),
        "ranger": factories.user(db, area.id, "ranger"),
        "stranger": factories.user(db, other.id, "manager"),
    }


def test_root_is_the_sign_in_page_until_signed_in(client, park):
    assert b"Sign in" in client.get("/").data
    sign_in(client, park["manager"])
    home = client.get("/").get_data(as_text=True)
    assert "Welcome" in home and f"/areas/{park['area'].slug}/map" in home


@pytest.mark.parametrize("key", PAGES)
def test_a_manager_gets_every_page_of_their_area(client, park, key):
    sign_in(client, park["manager"])
    answer = client.get(f"/areas/{park['area'].slug}/{key}")
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    for other in PAGES:  # the navigation lists every page
        assert f"/areas/{park['area'].slug}/{other}" in html


def test_patrol_page_shows_its_effort(client, park):
    sign_in(client, park["manager"])
    html = client.get(f"/areas/{park['area'].slug}/patrols/{park['patrol']}").get_data(as_text=True)
    assert "Track quality" in html and "Hours per zone" in html


def test_others_are_kept_out(client, park):
    slug = park["area"].slug
    assert client.get(f"/areas/{slug}/map").status_code == 302  # to the sign-in page
    sign_in(client, park["ranger"])
    assert client.get(f"/areas/{slug}/map").status_code == 403
    client.post("/logout")
    sign_in(client, park["stranger"])
    assert client.get(f"/areas/{slug}/map").status_code == 404
    other = park["other"].slug
    assert client.get(f"/areas/{other}/patrols/{park['patrol']}").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "map?start=someday",
        "patrols?start=2026-11-05&end=2026-11-01",
        "reports?status=lost",
        "reports?sort=sideways",
        "reports?page=0",
        "reports?page=201",
        "reports?start=2026-11-05&end=2026-11-01",
        "patrols?sort=sideways",
        "patrols?page=x",
        "devices?stale_hours=0",
        "nonsense",
    ],
)
def test_bad_page_queries_are_4xx(client, park, path):
    sign_in(client, park["manager"])
    assert client.get(f"/areas/{park['area'].slug}/{path}").status_code in (400, 404, 422)


def test_review_page_lists_quarantined_records(client, db):
    from tests.server.sync import helpers as h

    park = h.park(db)
    manager = factories.user(db, park.area_id, "manager")
    db.commit()
    bad = h.report(category="no_such_category")
    assert h.verdicts(h.push(client, park, [bad])) == ["rejected"]
    sign_in(client, manager)
    html = client.get(f"/areas/{park.slug}/review").get_data(as_text=True)
    assert "no_such_category" in html and 'data-action="dismiss"' in html
