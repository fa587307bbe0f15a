"""The partner API's behaviour in-process: paging under inserts, ETags, CRS, CQL2 filters."""

from __future__ import annotations

import json
import urllib.parse
import uuid

from geoalchemy2.shape import from_shape
from openapi_spec_validator import validate
from shapely.geometry import Point

from server.areas.models import MapFeature
from tests.server.partners.helpers import bearer, issue, partner_park


def _features(client, url, key):
    response = client.get(url, headers=bearer(key))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _add_posts(db, area_id, n, west=37.0, south=-3.5):
    ids = [uuid.uuid4() for _ in range(n)]
    db.add_all(
        MapFeature(
            id=i,
            area_id=area_id,
            layer="water_point",
            name=f"WP {k}",
            geom=from_shape(Point(west + 0.01 + k * 0.001, south + 0.05), srid=4326),
        )
        for k, i in enumerate(ids)
    )
    db.commit()
    return ids


def test_keyset_pages_neither_repeat_nor_skip_while_rows_are_added(db, client):
    p = partner_park(db, client)
    key = issue(db, p.slug, rate_limit="1000/minute")
    first = set(map(str, _add_posts(db, p.area_id, 25)))
    url = f"/ogc/collections/{p.slug}.layer-water_point/items?limit=7"
    seen, added = [], set()
    while url:
        page = _features(client, url, key)
        seen += [f["id"] for f in page["features"]]
        added |= set(map(str, _add_posts(db, p.area_id, 3)))  # inserts between the pages
        nxt = [link["href"] for link in page["links"] if link["rel"] == "next"]
        url = urllib.parse.urlsplit(nxt[0])._replace(scheme="", netloc="").geturl() if nxt else None
    assert len(seen) == len(set(seen))
    assert first <= set(seen)  # every row there at the start is seen, exactly once
    assert set(seen) <= first | added
    # and back: the prev link of the second page gives the first page again
    one = _features(client, f"/ogc/collections/{p.slug}.layer-water_point/items?limit=5", key)
    two_url = next(link["href"] for link in one["links"] if link["rel"] == "next")
    two = _features(client, two_url.split("localhost", 1)[1], key)
    prev_url = next(link["href"] for link in two["links"] if link["rel"] == "prev")
    back = _features(client, prev_url.split("localhost", 1)[1], key)
    assert [f["id"] for f in back["features"]] == [f["id"] for f in one["features"]]


def test_etag_and_if_none_match(db, client):
    p = partner_park(db, client)
    key = issue(db, p.slug)
    url = f"/ogc/collections/{p.slug}.zones/items"
    first = client.get(url, headers=bearer(key))
    etag = first.headers["ETag"]
    again = client.get(url, headers=bearer(key) | {"If-None-Match": etag})
    assert again.status_code == 304 and not again.data
    _add_posts(db, p.area_id, 1)
    changed = client.get(
        f"/ogc/collections/{p.slug}.layer-water_point/items",
        headers=bearer(key) | {"If-None-Match": etag},
    )
    assert changed.status_code == 200


def test_output_crs_and_bbox_crs(db, client):
    p = partner_park(db, client)
    key = issue(db, p.slug)
    base = f"/ogc/collections/{p.slug}.layer-ranger_post/items"
    plain = _features(client, base, key)["features"][0]["geometry"]["coordinates"]
    response = client.get(
        f"{base}?crs=http://www.opengis.net/def/crs/EPSG/0/3857", headers=bearer(key)
    )
    assert response.headers["Content-Crs"] == "<http://www.opengis.net/def/crs/EPSG/0/3857>"
    x, y = response.get_json()["features"][0]["geometry"]["coordinates"]
    assert abs(x - plain[0] * 20037508.342789244 / 180) < 1 and -390_000 < y < -370_000
    lat_lon = _features(client, f"{base}?crs=EPSG:4326", key)["features"][0]["geometry"]
    assert lat_lon["coordinates"] == [plain[1], plain[0]]
    # a bbox in EPSG:3857 around the post
    box = f"{x - 100},{y - 100},{x + 100},{y + 100}"
    found = _features(client, f"{base}?bbox={box}&bbox-crs=EPSG:3857", key)
    assert len(found["features"]) == 1
    assert client.get(f"{base}?crs=EPSG:32737", headers=bearer(key)).status_code == 400


def test_cql2_text_and_json_filters_on_queryables(db, client):
    p = partner_park(db, client)
    key = issue(db, p.slug)
    base = f"/ogc/collections/{p.slug}.observations/items"

    def ids(**params):
        query = urllib.parse.urlencode(params)
        return {f["id"] for f in _features(client, f"{base}?{query}", key)["features"]}

    elephants, fire = str(p.sightings["elephants"]), str(p.sightings["fire"])
    assert ids(filter="species = 'elephant'") == {elephants}
    assert ids(filter="category IN ('fire') OR individual_count > 10") == {elephants, fire}
    assert ids(filter="species LIKE 'ele%' AND observed_on >= DATE('2026-10-01')") == {elephants}
    assert ids(filter="species IS NULL") == {fire}
    as_json = json.dumps({"op": "=", "args": [{"property": "category"}, "fire"]})
    assert ids(filter=as_json, **{"filter-lang": "cql2-json"}) == {fire}
    # spatial: around the true position of the elephants finds nothing; around the cell, them
    x, y = p.park.centre[0] + 0.0123, p.park.centre[1] - 0.0071
    tight = f"S_INTERSECTS(geometry, BBOX({x - 0.001}, {y - 0.001}, {x + 0.001}, {y + 0.001}))"
    assert ids(filter=tight) == set()
    assert ids(filter="S_INTERSECTS(geometry, BBOX(30, -10, 45, 5))") == {elephants, fire}
    # queryables as plain parameters
    assert ids(species="elephant") == {elephants}


def test_bad_filters_and_parameters_are_400_problems(db, client):
    p = partner_park(db, client)
    key = issue(db, p.slug)
    base = f"/ogc/collections/{p.slug}.observations/items"
    for query in (
        "filter=notes LIKE '%25baobab%25'",  # not a queryable: free text is not reachable
        "filter=species = ",
        "filter=species = 5",
        "filter-lang=cql2-json&filter={nope",
        "limit=0",
        "limit=100000",
        "bbox=1,2,3",
        "datetime=yesterday",
        "colour=red",
        "after=not-a-key",
    ):
        response = client.get(f"{base}?{query}", headers=bearer(key))
        assert response.status_code == 400, (query, response.status_code, response.get_data())
        assert response.mimetype == "application/problem+json"


def test_datetime_sees_the_coarsened_date(db, client):
    p = partner_park(db, client)
    key = issue(db, p.slug)
    base = f"/ogc/collections/{p.slug}.observations/items"
    elephants = str(p.sightings["elephants"])
    # the sighting was at 07:42 UTC; partners only know its day, so an interval inside that
    # morning cannot find it and cannot be used to learn the time
    morning = "2026-10-01T07:00:00Z/2026-10-01T08:00:00Z"
    found = {f["id"] for f in _features(client, f"{base}?datetime={morning}", key)["features"]}
    assert elephants not in found
    day = {f["id"] for f in _features(client, f"{base}?datetime=2026-10-01", key)["features"]}
    assert elephants in day


def test_the_landing_page_links_a_valid_openapi_definition(db, client):
    p = partner_park(db, client)
    key = issue(db, p.slug)
    landing = _features(client, "/ogc/", key)
    rels = {link["rel"] for link in landing["links"]}
    assert {"self", "service-desc", "conformance", "data"} <= rels
    desc = next(link["href"] for link in landing["links"] if link["rel"] == "service-desc")
    document = client.get(desc.split("localhost", 1)[1], headers=bearer(key)).get_json(force=True)
    validate(document)
    assert "/collections/{collectionId}/items" in document["paths"]


def test_a_large_page_streams_and_pages_on_with_the_same_keys(db, client):
    p = partner_park(db, client)
    ids = _add_posts(db, p.area_id, 2_500)
    key = issue(db, p.slug)
    url = f"/ogc/collections/{p.slug}.layer-water_point/items?limit=2000"
    response = client.get(url, headers=bearer(key))
    assert response.status_code == 200
    assert "Content-Length" not in response.headers  # sent as it is read
    assert response.mimetype == "application/geo+json"
    assert "ETag" not in response.headers  # would need the last byte before the first
    first = json.loads(response.get_data())
    assert first["numberReturned"] == 2_000 == len(first["features"])
    nxt = next(link["href"] for link in first["links"] if link["rel"] == "next")
    rest = _features(client, nxt.split("localhost", 1)[1], key)
    assert "next" not in {link["rel"] for link in rest["links"]}
    seen = [f["id"] for f in first["features"] + rest["features"]]
    assert sorted(seen) == sorted(str(i) for i in ids) and len(set(seen)) == 2_500
    # the partner log has the streamed page with its count, written when the stream ended
    logged = client.get(
        f"/api/v1/areas/{p.slug}/partner-requests", headers=p.park.headers("admin")
    ).get_json()
    assert sorted(r["features"] for r in logged if "limit=2000" in r["query"]) == [500, 2_000]
    # a filter PostgreSQL cannot evaluate is still a 400 problem, not a broken stream
    bad = client.get(url + "&filter=name%20%3E%205", headers=bearer(key))
    assert bad.status_code == 400 and bad.mimetype == "application/problem+json"


def test_pages_that_fit_keep_their_etag(db, client):
    p = partner_park(db, client)
    _add_posts(db, p.area_id, 20)
    key = issue(db, p.slug)
    url = f"/ogc/collections/{p.slug}.layer-water_point/items?limit=1000"
    response = client.get(url, headers=bearer(key))
    assert response.headers["ETag"] and int(response.headers["Content-Length"]) > 0
