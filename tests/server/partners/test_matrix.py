"""The authorization and geoprivacy matrix: a partner key reaches its areas' partner collections
and nothing else, by any route; what it gets never says more than the geoprivacy rules allow."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.server.partners.helpers import bearer, issue, partner_park

FORBIDDEN_KINDS = ("patrols", "tracks", "positions", "reports", "photos", "attachments", "layer-x")


def _get(client, path, key):
    return client.get(path, headers=bearer(key))


def test_a_key_never_reaches_another_area(db, client):
    a = partner_park(db, client)
    b = partner_park(db, client, west=38.0)
    key = issue(db, a.slug)
    listed = [c["id"] for c in _get(client, "/ogc/collections", key).get_json()["collections"]]
    assert listed and all(c.startswith(f"{a.slug}.") for c in listed)
    for kind in ("boundary", "zones", "observations", "effort", "findings", "layer-road"):
        for suffix in ("", "/items", "/queryables", f"/items/{b.park.post_id}"):
            response = _get(client, f"/ogc/collections/{b.slug}.{kind}{suffix}", key)
            assert response.status_code == 404, (kind, suffix)
    # a feature of B asked for through A's collection is not found either
    path = f"/ogc/collections/{a.slug}.layer-ranger_post/items/{b.park.post_id}"
    assert _get(client, path, key).status_code == 404


def test_a_key_reaches_only_the_collections_it_was_given(db, client):
    p = partner_park(db, client)
    key = issue(db, p.slug, collections=["zones", "layer-road"])
    listed = {c["id"] for c in _get(client, "/ogc/collections", key).get_json()["collections"]}
    assert listed == {f"{p.slug}.zones", f"{p.slug}.layer-road"}
    for kind in ("boundary", "observations", "effort", "findings", "layer-ranger_post"):
        assert _get(client, f"/ogc/collections/{p.slug}.{kind}/items", key).status_code == 404
    assert _get(client, f"/ogc/collections/{p.slug}.zones/items", key).status_code == 200


@pytest.mark.parametrize("kind", FORBIDDEN_KINDS)
def test_patrols_tracks_positions_reports_and_photos_are_no_collection(db, client, kind):
    p = partner_park(db, client)
    key = issue(db, p.slug)
    assert _get(client, f"/ogc/collections/{p.slug}.{kind}/items", key).status_code == 404


def test_no_route_of_the_api_accepts_a_partner_key(db, client):
    p = partner_park(db, client)
    key = issue(db, p.slug)
    for path in (
        f"/api/v1/patrols/{p.park.patrol_id}",
        f"/api/v1/reports/{p.park.report_id}",
        f"/api/v1/areas/{p.slug}/positions",
        f"/api/v1/areas/{p.slug}/map-overview",
        f"/api/v1/attachments/{uuid.uuid4()}/file",
        f"/api/v1/areas/{p.slug}/coverage/cells",
        f"/api/v1/areas/{p.slug}/partner-keys",
        f"/tiles/reports/12/2469/2078.mvt?area={p.slug}",
        f"/tiles/patrols/12/2469/2078.mvt?area={p.slug}",
    ):
        assert client.get(path, headers=bearer(key)).status_code == 401, path
        with_key = client.get(f"{path}{'&' if '?' in path else '?'}key={key}").status_code
        assert with_key in (401, 422), path  # no credentials at all, or `key` is no parameter


def test_partner_users_see_their_own_areas_only(db, client):
    a = partner_park(db, client)
    b = partner_park(db, client, west=38.0)
    headers = a.park.headers("partner")
    assert (
        client.get(f"/ogc/collections/{a.slug}.observations/items", headers=headers).status_code
        == 200
    )
    assert (
        client.get(f"/ogc/collections/{b.slug}.observations/items", headers=headers).status_code
        == 404
    )
    ranger = a.park.headers("ranger")  # rangers use the field API, not the partner feed
    assert client.get(f"/ogc/collections/{a.slug}.zones/items", headers=ranger).status_code == 403


def test_no_free_text_and_the_same_cell_in_every_representation(db, client):
    p = partner_park(db, client)
    key = issue(db, p.slug)
    fid = str(p.sightings["elephants"])
    base = f"/ogc/collections/{p.slug}"
    outputs = [
        _get(client, f"{base}.{kind}/items?limit=1000", key).get_data(as_text=True)
        for kind in ("boundary", "zones", "observations", "effort", "findings", "layer-road")
    ]
    outputs.append(_get(client, f"{base}.observations/items?f=html", key).get_data(as_text=True))
    outputs.append(
        _get(client, f"{base}.observations/items/{fid}?f=html", key).get_data(as_text=True)
    )
    for text in outputs:
        for secret in ("baobab", "hidden spring", "drinking"):
            assert secret not in text
    listed = json.loads(outputs[2])
    point = next(f for f in listed["features"] if f["id"] == fid)["geometry"]["coordinates"]
    single = _get(client, f"{base}.observations/items/{fid}", key).get_json()
    assert single["geometry"]["coordinates"] == point
    lat_first = _get(client, f"{base}.observations/items/{fid}?crs=EPSG:4326", key).get_json()[
        "geometry"
    ]["coordinates"]
    assert lat_first == [point[1], point[0]]
    assert str(round(point[0], 4)) in outputs[7]  # the HTML page shows the same cell centre
    # and the true position is nowhere
    true_lon = round(p.park.centre[0] + 0.0123, 4)
    assert all(str(true_lon) not in t for t in outputs)
