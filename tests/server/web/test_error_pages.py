"""Problems met on the dashboard's pages are pages (in the reader's language, with the problem's
status); the API keeps answering problem+json; signing in goes back to `next`, on this site only."""

from __future__ import annotations

import pytest

from tests import factories
from tests.server.analytics.helpers import sign_in

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.fixture
def park(db):
    area = factories.area(db)
    return {
        "area": area,
        "manager": factories.user(db, area.id, "manager"),
        "partner": factories.user(db, area.id, "partner"),
    }


def test_a_reversed_period_is_a_page_that_says_so(client, park):
    sign_in(client, park["manager"])
    path = f"/areas/{park['area'].slug}/map?start=2026-05-10&end=2026-05-01"
    answer = client.get(path, headers=BROWSER)
    assert answer.status_code == 422 and answer.mimetype == "text/html"
    assert "The end date is before the start date." in answer.text
    assert f'href="/areas/{park["area"].slug}/map"' in answer.text  # the page, usual settings
    french = client.get(path + "&lang=fr", headers=BROWSER).text
    assert "La date de fin précède la date de début." in french
    # A client asking for JSON still gets the problem document.
    problem = client.get(path, headers={"Accept": "application/json"})
    assert problem.status_code == 422 and problem.mimetype == "application/problem+json"
    assert problem.json["errors"] == {"end": ["before start"]}


def test_a_date_that_is_not_one_is_named(client, park):
    sign_in(client, park["manager"])
    answer = client.get(f"/areas/{park['area'].slug}/patrols?start=10/05/2026", headers=BROWSER)
    assert answer.status_code == 422
    assert "“start” is not a date: write it as YYYY-MM-DD." in answer.text


def test_a_partner_following_the_park_link_is_shown_where_their_data_is(client, park):
    sign_in(client, park["partner"])
    home = client.get("/", headers=BROWSER).text
    assert f"/areas/{park['area'].slug}/map" in home  # the link they follow
    answer = client.get(f"/areas/{park['area'].slug}/map", headers=BROWSER)
    assert answer.status_code == 403 and answer.mimetype == "text/html"
    assert "As a partner" in answer.text and 'href="/ogc/"' in answer.text


def test_unknown_pages_are_pages_and_unknown_api_routes_problems(client, park):
    sign_in(client, park["manager"])
    for path in (f"/areas/{park['area'].slug}/nowhere", "/nowhere", "/areas/no-such-park/map"):
        answer = client.get(path, headers=BROWSER)
        assert answer.status_code == 404 and "<h1>Page not found</h1>" in answer.text, path
    api = client.get("/api/v1/nowhere", headers=BROWSER)
    assert api.status_code == 404 and api.mimetype == "application/problem+json"
    # curl and scripts (Accept: */*) get the problem document, on pages too.
    assert client.get("/nowhere", headers={"Accept": "*/*"}).mimetype == "application/problem+json"


def test_signing_in_goes_back_to_the_page_asked_for(client, park):
    slug = park["area"].slug
    to_login = client.get(f"/areas/{slug}/patrols?start=2026-05-01", headers=BROWSER)
    assert to_login.status_code == 302
    assert to_login.location == f"/login?next=/areas/{slug}/patrols?start%3D2026-05-01"
    form = client.get(to_login.location).text
    assert f'name="next" value="/areas/{slug}/patrols?start=2026-05-01"' in form
    answer = client.post(
        "/login",
        data={
            "username": park["manager"].username,
            "password": factories.PASSWORD,
            "next": f"/areas/{slug}/patrols?start=2026-05-01",
        },
    )
    assert (
        answer.status_code == 302 and answer.location == f"/areas/{slug}/patrols?start=2026-05-01"
    )


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/x",
        "https://evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "evil.example",
        "/\tx",
        "",
    ],
)
def test_next_never_leads_off_the_site(client, park, target):
    answer = client.post(
        "/login",
        data={"username": park["manager"].username, "password": factories.PASSWORD, "next": target},
    )
    assert answer.status_code == 302 and answer.location == "/dashboard"
