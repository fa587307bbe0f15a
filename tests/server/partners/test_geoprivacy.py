"""Geoprivacy: partners see a sighting at its fixed grid cell's centre, however they ask."""

from __future__ import annotations

import random

from pyproj import Geod

from tests.server.partners.helpers import bearer, issue, partner_park

GEOD = Geod(ellps="WGS84")


def observations(client, slug: str, key: str, **params) -> dict:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    response = client.get(
        f"/ogc/collections/{slug}.observations/items?{query}", headers=bearer(key)
    )
    assert response.status_code == 200, response.get_json()
    return {f["id"]: f for f in response.get_json()["features"]}


def test_a_thousand_pulls_of_one_sighting_all_return_the_same_cell_centre(db, client):
    p = partner_park(db, client)
    key = issue(db, p.slug, rate_limit="5000/minute")
    elephants = str(p.sightings["elephants"])
    rng = random.Random(7)
    seen = set()
    for _ in range(1000):
        # different bboxes around it, page sizes and CRS spellings: never a different point
        w, s = 36.9 + rng.uniform(0, 0.1), -3.6 + rng.uniform(0, 0.1)
        params = {"bbox": f"{w},{s},{w + 0.6},{s + 0.4}", "limit": rng.randint(1, 50)}
        if rng.random() < 0.5:
            params["crs"] = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
        found = observations(client, p.slug, key, **params)
        if elephants in found:
            seen.add(tuple(found[elephants]["geometry"]["coordinates"]))
    assert len(seen) == 1
    ((lon, lat),) = seen
    true_lon, true_lat = p.park.centre[0] + 0.0123, p.park.centre[1] - 0.0071
    _, _, metres = GEOD.inv(lon, lat, true_lon, true_lat)
    assert 0 < metres <= 10_000 * 2**0.5 / 2 * 1.3  # within the 10 km cell (6933 is not conformal)


def test_partners_see_only_what_the_rules_allow_and_no_free_text(db, client):
    p = partner_park(db, client)
    key = issue(db, p.slug)
    found = observations(client, p.slug, key)
    ids = {name: str(i) for name, i in p.sightings.items()}
    # rhino: hidden by species; carcass: sensitive, no rule; recent logging: under embargo
    assert set(found) == {ids["elephants"], ids["fire"]}
    elephants = found[ids["elephants"]]["properties"]
    assert elephants["species"] == "elephant" and elephants["individual_count"] == 14
    assert elephants["observed_at"] is None and elephants["observed_on"] == "2026-10-01"
    assert elephants["coordinate_uncertainty_m"] == 7071.1
    text = str(found[ids["elephants"]])
    for secret in ("baobab", "hidden spring", "behaviour", "notes", "07:42"):
        assert secret not in text
    fire = found[ids["fire"]]
    assert fire["properties"]["coordinate_uncertainty_m"] is None
    assert fire["geometry"]["coordinates"] == [
        round(p.park.centre[0] + 0.03, 7),
        round(p.park.centre[1] + 0.03, 7),
    ]


def test_a_narrow_bbox_around_the_true_position_finds_nothing(db, client):
    p = partner_park(db, client)
    key = issue(db, p.slug)
    lon, lat = p.park.centre[0] + 0.0123, p.park.centre[1] - 0.0071
    tight = f"{lon - 0.001},{lat - 0.001},{lon + 0.001},{lat + 0.001}"
    assert str(p.sightings["elephants"]) not in observations(client, p.slug, key, bbox=tight)


def test_the_rules_are_for_admins_and_checked(db, client):
    p = partner_park(db, client)
    url = f"/api/v1/areas/{p.slug}/geoprivacy"
    rules = client.get(url, headers=p.park.headers("admin")).get_json()["rules"]
    assert {
        "category": None,
        "species": "rhino",
        "visibility": "hidden",
        "cell_m": None,
        "embargo_days": 0,
    } in rules
    assert client.get(url, headers=p.park.headers("manager")).status_code == 403
    bad = {"rules": [{"category": "fire", "visibility": "snapped"}]}
    response = client.put(url, json=bad, headers=p.park.headers("admin"))
    assert response.status_code == 422 and "rules/0/cell_m" in response.get_json()["errors"]
    unknown = {"rules": [{"category": "dragons", "visibility": "hidden"}]}
    assert client.put(url, json=unknown, headers=p.park.headers("admin")).status_code == 422
    everything = {"rules": [{"visibility": "snapped", "cell_m": 5000}]}
    response = client.put(url, json=everything, headers=p.park.headers("admin"))
    assert response.status_code == 200
    key = issue(db, p.slug)
    found = observations(client, p.slug, key)
    # one rule for every category: the carcass (sensitive) and rhino now show, snapped
    assert str(p.sightings["carcass"]) in found and str(p.sightings["rhino"]) in found
    assert {f["properties"]["coordinate_uncertainty_m"] for f in found.values()} == {3535.5}
