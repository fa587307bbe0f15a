"""HTTP endpoints of maps: vector tiles, layers as GeoJSON, feature edits, imports, packages.

Tiles and GeoJSON carry an ETag of their bytes and answer a matching If-None-Match with 304.
They are private to the caller (scoped by rights), so caches must revalidate (`no-cache`).
"""

from __future__ import annotations

import uuid

from flask import Blueprint as FlaskBlueprint
from flask import Response, current_app, request, send_file

from schemas.maps import (
    FeatureCreate,
    FeatureDelete,
    FeatureEdit,
    FeatureRef,
    ImportFile,
    ImportQuery,
    ImportReportOut,
    LayerOut,
    ManifestOut,
    TileQuery,
    ZoneCreate,
    ZoneEdit,
)
from server.core.api import API_PREFIX, Blueprint
from server.core.web import commit, current_actor, db, read_db
from server.maps import imports, layers, packages, tiles, zones

blp = Blueprint("maps", __name__, url_prefix=API_PREFIX, description="Map layers and packages")
tiles_blp = FlaskBlueprint("tiles", __name__)
GEOJSON = "application/geo+json"


def tile_cache() -> tiles.TileCache:
    return current_app.extensions["rangersync.tiles"]


def _conditional(body: bytes, etag: str, media_type: str) -> Response:
    headers = {"ETag": f'"{etag}"', "Cache-Control": "private, no-cache", "Vary": "Authorization"}
    if request.if_none_match.contains(etag):
        return Response(status=304, headers=headers)
    return Response(body, mimetype=media_type, headers=headers)


@tiles_blp.get("/tiles/<layer>/<int:z>/<int:x>/<int:y>.mvt")
def tile(layer: str, z: int, x: int, y: int):
    """A Mapbox Vector Tile of one layer over the caller's areas (`?area=` for one)."""
    args = TileQuery().load(request.args)
    found = tiles.get_tile(
        read_db(), current_actor(), layer, z, x, y, area=args["area"], cache=tile_cache()
    )
    read_db().rollback()  # read-only: end the transaction before the bytes go out
    response = _conditional(found.body, found.etag, tiles.MEDIA_TYPE)
    response.headers["X-Tile-Cache"] = "hit" if found.cached else "miss"
    return response


@blp.get("/areas/<area>/layers")
@blp.response(200, LayerOut(many=True))
def list_layers(area):
    """The area's layers: built-in (boundary, zones) and its map-feature layers."""
    return layers.list_layers(read_db(), current_actor(), area)


@blp.get("/areas/<area>/layers/<layer>")
@blp.response(200, content_type=GEOJSON)
def layer_geojson(area, layer):
    """A layer as a GeoJSON FeatureCollection, with ETag (304 when unchanged)."""
    document = layers.layer_geojson(read_db(), current_actor(), area, layer)
    return _conditional(document.body, document.etag, GEOJSON)


@blp.post("/areas/<area>/layers/<layer>/features")
@blp.arguments(FeatureCreate)
@blp.response(201, FeatureRef)
def create_feature(body, area, layer):
    """Add a feature to a layer (managers); a new layer name makes a new layer."""
    feature_id = commit(layers.create_feature(db(), current_actor(), area, layer, **body))
    return {"id": feature_id, "href": f"{API_PREFIX}/areas/{area}/features/{feature_id}"}


@blp.get("/areas/<area>/features/<uuid:feature_id>")
@blp.response(200, content_type=GEOJSON)
def get_feature(area, feature_id: uuid.UUID):
    """One feature as GeoJSON, with ETag (304 when unchanged)."""
    document = layers.feature_geojson(read_db(), current_actor(), area, feature_id)
    return _conditional(document.body, document.etag, GEOJSON)


@blp.patch("/areas/<area>/features/<uuid:feature_id>")
@blp.arguments(FeatureEdit)
@blp.response(200, FeatureRef)
def edit_feature(body, area, feature_id: uuid.UUID):
    """Edit a feature on the version you saw (409 if it changed since)."""
    commit(layers.update_feature(db(), current_actor(), area, feature_id, **body))
    return {"id": feature_id, "href": f"{API_PREFIX}/areas/{area}/features/{feature_id}"}


@blp.delete("/areas/<area>/features/<uuid:feature_id>")
@blp.arguments(FeatureDelete, location="query")
@blp.response(204)
def delete_feature(args, area, feature_id: uuid.UUID):
    """Delete a feature on the version you saw; devices get a tombstone."""
    commit(layers.delete_feature(db(), current_actor(), area, feature_id, **args))


@blp.post("/areas/<area>/imports")
@blp.arguments(ImportQuery, location="query")
@blp.arguments(ImportFile, location="files")
@blp.response(200, ImportReportOut)
def import_file(args, files, area):
    """Import GeoJSON, a zipped Shapefile, a GeoPackage or KML into the area's layers (managers).

    `preview=true` reports what would change and changes nothing; rejected features come with
    the reason and, for invalid geometry, where; `repair=true` makes invalid geometries valid
    and lists each repair (also in the audit log)."""
    upload = files["file"]
    report = imports.import_file(
        db(), current_actor(), area, upload.filename or "upload", upload.read(), **args
    )
    return report if args["preview"] else commit(report)


@blp.get("/areas/<area>/mappack")
@blp.response(200, ManifestOut)
def mappack_manifest(area):
    """The manifest of the area's current offline map package (version, bounds, zooms, files
    with size and SHA-256, and whether the layers have changed since it was built)."""
    return packages.manifest(db(), current_actor(), area)


@tiles_blp.get(f"{API_PREFIX}/areas/<area>/mappack/<int:version>/<name>")
def mappack_file(area: str, version: int, name: str):
    """One file of a package, with HTTP Range (206) so a dropped download resumes; If-Range
    with the file's SHA-256 as ETag keeps a resumed download from mixing two versions."""
    maps_dir = current_app.extensions["rangersync"].config.maps_dir
    path, sha256 = packages.package_file(db(), current_actor(), area, version, name, maps_dir)
    db().rollback()
    media = "application/json" if name.endswith(".json") else "application/vnd.sqlite3"
    response = send_file(path, mimetype=media, etag=sha256, conditional=True, max_age=0)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@blp.post("/areas/<area>/zones")
@blp.arguments(ZoneCreate)
@blp.response(201, FeatureRef)
def create_zone(body, area):
    """Add a zone (managers)."""
    zone_id = commit(zones.create_zone(db(), current_actor(), area, **body))
    return {"id": zone_id, "href": f"{API_PREFIX}/areas/{area}/layers/zones"}


@blp.patch("/areas/<area>/zones/<uuid:zone_id>")
@blp.arguments(ZoneEdit)
@blp.response(200, FeatureRef)
def edit_zone(body, area, zone_id: uuid.UUID):
    """Edit a zone on the version you saw (409 if it changed since)."""
    commit(zones.update_zone(db(), current_actor(), area, zone_id, **body))
    return {"id": zone_id, "href": f"{API_PREFIX}/areas/{area}/layers/zones"}


@blp.delete("/areas/<area>/zones/<uuid:zone_id>")
@blp.arguments(FeatureDelete, location="query")
@blp.response(204)
def delete_zone(args, area, zone_id: uuid.UUID):
    """Delete a zone on the version you saw; devices get a tombstone."""
    commit(zones.delete_zone(db(), current_actor(), area, zone_id, **args))
