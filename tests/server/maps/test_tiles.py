"""Vector tiles: decoded content, scope by rights and area, ETag/304, and a cache that is
dropped the moment the data under it changes."""

from __future__ import annotations

import mapbox_vector_tile
from geoalchemy2.shape import from_shape
from shapely.geometry import Point

from server.areas.models import MapFeature
from server.maps.tiles import EXTENT
from tests.server.maps import helpers as h


def get_tile(client, park, role, layer, z=12, at=None, **query):
    lon, lat = at or park.centre
    _, x, y = h.tile_of(lon, lat, z)
    return client.get(
        f"/tiles/{layer}/{z}/{x}/{y}.mvt", headers=park.headers(role), query_string=query
    )


def decode(response) -> dict:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/vnd.mapbox-vector-tile"
    return mapbox_vector_tile.decode(response.data)


def test_a_tile_holds_the_layers_features_with_their_attributes(db, client):
    park = h.map_park(db, client)
    tile = decode(get_tile(client, park, "ranger", "ranger_post"))
    layer = tile["ranger_post"]
    assert layer["extent"] == EXTENT
    [feature] = layer["features"]
    assert feature["properties"]["id"] == str(park.post_id)
    assert feature["properties"]["name"] == f"HQ {park.slug}"
    assert feature["properties"]["staff"] == 12 and feature["properties"]["radio"] == "VHF"
    assert feature["geometry"]["type"] == "Point"
    x, y = feature["geometry"]["coordinates"]
    assert 0 <= x <= EXTENT and 0 <= y <= EXTENT


def test_built_in_layers_hold_lines_points_and_polygons(db, client):
    park = h.map_park(db, client)
    patrols = decode(get_tile(client, park, "manager", "patrols"))["patrols"]["features"]
    assert [f["properties"]["id"] for f in patrols] == [str(park.patrol_id)]
    assert patrols[0]["geometry"]["type"] == "LineString"
    assert patrols[0]["properties"]["started_at"] == "2026-11-20T06:00:00Z"
    reports = decode(get_tile(client, park, "ranger", "reports"))["reports"]["features"]
    assert reports[0]["properties"]["category"] == "poaching.snare"
    assert reports[0]["geometry"]["type"] == "Point"
    zones = decode(get_tile(client, park, "partner", "zones"))["zones"]["features"]
    assert zones[0]["properties"]["kind"] == "intensive_protection"
    assert zones[0]["geometry"]["type"] == "Polygon"
    boundary = decode(get_tile(client, park, "partner", "boundary", z=8))["boundary"]["features"]
    assert boundary[0]["properties"]["slug"] == park.slug


def test_coordinates_land_where_the_feature_is(db, client):
    park = h.map_park(db, client)
    z, lon, lat = 14, *park.centre
    _, x, _y = h.tile_of(lon, lat, z)
    [feature] = decode(get_tile(client, park, "ranger", "ranger_post", z=z))["ranger_post"][
        "features"
    ]
    px, py = feature["geometry"]["coordinates"]
    # mapbox-vector-tile decodes with y pointing up; back to lon/lat through the tile's bounds
    n = 2**z
    lon_back = (x + px / EXTENT) / n * 360 - 180
    assert abs(lon_back - lon) < 360 / n / EXTENT * 2
    assert 0 < py < EXTENT


def test_partners_never_get_patrols_or_reports(db, client):
    park = h.map_park(db, client)
    for layer in ("patrols", "reports"):
        response = get_tile(client, park, "partner", layer)
        assert response.status_code == 403
        assert response.mimetype == "application/problem+json"


def test_park_a_tiles_never_hold_park_b_data(db, client):
    a = h.map_park(db, client, west=37.0)
    b = h.map_park(db, client, west=37.0005)  # overlapping on purpose: same tiles
    for layer in ("ranger_post", "patrols", "reports", "zones", "boundary"):
        decoded = decode(get_tile(client, a, "manager", layer, z=10))
        ids = {f["properties"]["id"] for f in decoded.get(layer, {"features": []})["features"]}
        assert str(b.post_id) not in ids and str(b.patrol_id) not in ids
        assert str(b.report_id) not in ids
    named = get_tile(client, a, "manager", "ranger_post", area=b.slug)
    assert named.status_code == 404


def test_bad_addresses_and_unknown_layers_are_problems(db, client):
    park = h.map_park(db, client)
    headers = park.headers("ranger")
    assert client.get("/tiles/road/23/0/0.mvt", headers=headers).status_code == 422
    assert client.get("/tiles/road/2/4/0.mvt", headers=headers).status_code == 422
    assert client.get("/tiles/no_such_layer/2/2/2.mvt", headers=headers).status_code == 404
    assert client.get("/tiles/Bad-Name/2/2/2.mvt", headers=headers).status_code == 404
    assert client.get("/tiles/road/2/2/2.mvt").status_code == 401


def test_etag_gives_304(db, client):
    park = h.map_park(db, client)
    first = get_tile(client, park, "ranger", "road")
    etag = first.headers["ETag"]
    _, x, y = h.tile_of(*park.centre, 12)
    again = client.get(
        f"/tiles/road/12/{x}/{y}.mvt", headers=park.headers("ranger") | {"If-None-Match": etag}
    )
    assert again.status_code == 304 and again.data == b""


def test_cached_tile_is_served_until_the_data_under_it_changes(committed_db, committed_client):
    db, client = committed_db, committed_client
    park = h.map_park(db, client)
    first = get_tile(client, park, "ranger", "ranger_post")
    assert first.headers["X-Tile-Cache"] == "miss"
    second = get_tile(client, park, "ranger", "ranger_post")
    assert second.headers["X-Tile-Cache"] == "hit" and second.data == first.data
    lon, lat = park.centre
    db.add(
        MapFeature(
            area_id=park.area_id,
            layer="ranger_post",
            name="New post",
            geom=from_shape(Point(lon + 0.002, lat), srid=4326),
        )
    )
    db.commit()
    third = get_tile(client, park, "ranger", "ranger_post")
    assert third.headers["X-Tile-Cache"] == "miss"
    names = {f["properties"]["name"] for f in decode(third)["ranger_post"]["features"]}
    assert names == {f"HQ {park.slug}", "New post"}
    assert third.headers["ETag"] != first.headers["ETag"]


def test_deleting_a_row_drops_cached_tiles(committed_db, committed_client):
    db, client = committed_db, committed_client
    park = h.map_park(db, client)
    assert len(decode(get_tile(client, park, "ranger", "reports"))["reports"]["features"]) == 1
    assert get_tile(client, park, "ranger", "reports").headers["X-Tile-Cache"] == "hit"
    from server.reports.models import Report

    db.delete(db.get(Report, park.report_id))
    db.commit()
    after = get_tile(client, park, "ranger", "reports")
    assert after.headers["X-Tile-Cache"] == "miss" and after.data == b""


def test_a_change_in_another_park_keeps_the_cache(committed_db, committed_client):
    db, client = committed_db, committed_client
    a = h.map_park(db, client, west=37.0)
    b = h.map_park(db, client, west=38.0)
    get_tile(client, a, "ranger", "road")
    post = db.get(MapFeature, b.post_id)
    post.name, post.version = "Renamed", post.version + 1
    db.commit()
    assert get_tile(client, a, "ranger", "road").headers["X-Tile-Cache"] == "hit"


def test_renaming_a_category_drops_cached_report_tiles(committed_db, committed_client):
    db, client = committed_db, committed_client
    park = h.map_park(db, client)
    get_tile(client, park, "ranger", "reports")
    assert get_tile(client, park, "ranger", "reports").headers["X-Tile-Cache"] == "hit"
    from server.reports.models import Report, ReportCategory

    category = db.get(ReportCategory, db.get(Report, park.report_id).category_id)
    category.label = category.label + " (wire)"
    db.commit()
    assert get_tile(client, park, "ranger", "reports").headers["X-Tile-Cache"] == "miss"


def test_a_manager_sees_only_their_areas(db, client):
    a = h.map_park(db, client, west=37.0)
    b = h.map_park(db, client, west=37.0005)
    z, x, y = h.tile_of(*a.centre, 10)
    ids = set()
    for layer in ("patrols", "reports", "ranger_post"):
        response = client.get(f"/tiles/{layer}/{z}/{x}/{y}.mvt", headers=b.headers("manager"))
        ids |= {
            f["properties"]["id"] for f in decode(response).get(layer, {"features": []})["features"]
        }
    assert {str(b.patrol_id), str(b.report_id), str(b.post_id)} <= ids
    assert not {str(a.patrol_id), str(a.report_id), str(a.post_id)} & ids
