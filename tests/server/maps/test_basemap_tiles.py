"""The park's raster base map, served tile by tile to the dashboard's map: its description, a
tile by its XYZ address (rows flipped from the file's TMS rows), 404 where there is none, and
304 for a tile the browser has."""

from __future__ import annotations

from server.core.policy import SYSTEM
from server.maps import mbtiles, packages
from tests.server.maps import helpers as h

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c63000100000500010d0a2db40000000049454e44ae426082"
)


def test_the_dashboard_map_reads_the_parks_base_map_tile_by_tile(
    committed_db, committed_client, test_config, tmp_path
):
    db, client = committed_db, committed_client
    park = h.map_park(db, client)
    manager = park.headers("manager")
    base = f"/api/v1/areas/{park.slug}/basemap"
    assert client.get(base, headers=manager).status_code == 404  # none yet
    raster = tmp_path / "ortho.mbtiles"
    source = mbtiles.create(
        raster, {"name": "Ortho", "format": "png", "bounds": "37,-3.5,37.3,-3.3"}
    )
    source.execute("INSERT INTO tiles VALUES (10, 617, ?, ?)", (mbtiles.tms_row(10, 519), PNG))
    source.close()
    packages.attach_basemap(db, SYSTEM, park.area_id, raster, test_config.maps_dir)
    db.commit()

    info = client.get(base, headers=manager)
    assert info.status_code == 200, info.get_json()
    assert info.get_json() | {"sha256": "x"} == {
        "format": "png",
        "sha256": "x",
        "minzoom": 10,
        "maxzoom": 10,
        "bounds": [37.0, -3.5, 37.3, -3.3],
    }
    tile = client.get(f"{base}/10/617/519", headers=manager)
    assert tile.status_code == 200 and tile.mimetype == "image/png" and tile.data == PNG
    again = client.get(
        f"{base}/10/617/519", headers=manager | {"If-None-Match": tile.headers["ETag"]}
    )
    assert again.status_code == 304
    missing = client.get(f"{base}/10/617/520", headers=manager)
    assert missing.status_code == 404
    assert missing.headers["Content-Type"].startswith("application/problem+json")
    assert client.get(f"{base}/10/617/519").status_code == 401
