"""HTTP endpoints of maps: vector tiles, layers as GeoJSON, feature edits, imports, packages.

Tiles and GeoJSON carry an ETag of their bytes and answer a matching If-None-Match with 304.
They are private to the caller (scoped by rights), so caches must revalidate (`no-cache`).
"""

from __future__ import annotations

import uuid

from flask import Blueprint as FlaskBlueprint
from flask import Response, current_app, request, send_file
from marshmallow import ValidationError

from schemas.maps import (
    BasemapOut,
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
from server.areas.service import area_id_of
from server.areas.web import in_area
from server.core.api import API_PREFIX, Blueprint
from server.core.errors import Invalid
from server.core.web import commit, current_actor, db, read_db
from server.maps import basemap, imports, layers, packages, tiles, zones

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
    try:
        args = TileQuery().load(request.args)
    except ValidationError as error:  # an unknown or bad parameter is the caller's fault: 422
        raise Invalid("a query parameter is not valid", errors=error.messages) from error
    area = args["area"]
    area_id = area_id_of(db(), current_actor(), area) if area is not None else None
    found = tiles.get_tile(
        read_db(), current_actor(), layer, z, x, y, area_id=area_id, cache=tile_cache()
    )
    read_db().rollback()  # read-only: end the transaction before the bytes go out
    response = _conditional(found.body, found.etag, tiles.MEDIA_TYPE)
    response.headers["X-Tile-Cache"] = "hit" if found.cached else "miss"
    return response


@blp.get("/areas/<area>/layers")
@blp.response(200, LayerOut(many=True))
@in_area
def list_layers(area_id):
    """The area's layers: built-in (boundary, zones) and its map-feature layers."""
    return layers.list_layers(read_db(), current_actor(), area_id)


@blp.get("/areas/<area>/layers/<layer>")
@blp.response(200, content_type=GEOJSON)
@in_area
def layer_geojson(area_id, layer):
    """A layer as a GeoJSON FeatureCollection, with ETag (304 when unchanged)."""
    document = layers.layer_geojson(read_db(), current_actor(), area_id, layer)
    return _conditional(document.body, document.etag, GEOJSON)


@blp.post("/areas/<area>/layers/<layer>/features")
@blp.arguments(FeatureCreate)
@blp.response(201, FeatureRef)
@in_area
def create_feature(body, area, area_id, layer):
    """Add a feature to a layer (managers); a new layer name makes a new layer."""
    feature_id = commit(layers.create_feature(db(), current_actor(), area_id, layer, **body))
    return {"id": feature_id, "href": f"{API_PREFIX}/areas/{area}/features/{feature_id}"}


@blp.get("/areas/<area>/features/<uuid:feature_id>")
@blp.response(200, content_type=GEOJSON)
@in_area
def get_feature(area_id, feature_id: uuid.UUID):
    """One feature as GeoJSON, with ETag (304 when unchanged)."""
    document = layers.feature_geojson(read_db(), current_actor(), area_id, feature_id)
    return _conditional(document.body, document.etag, GEOJSON)


@blp.patch("/areas/<area>/features/<uuid:feature_id>")
@blp.arguments(FeatureEdit)
@blp.response(200, FeatureRef)
@in_area
def edit_feature(body, area, area_id, feature_id: uuid.UUID):
    """Edit a feature on the version you saw (409 if it changed since)."""
    commit(layers.update_feature(db(), current_actor(), area_id, feature_id, **body))
    return {"id": feature_id, "href": f"{API_PREFIX}/areas/{area}/features/{feature_id}"}


@blp.delete("/areas/<area>/features/<uuid:feature_id>")
@blp.arguments(FeatureDelete, location="query")
@blp.response(204)
@in_area
def delete_feature(args, area_id, feature_id: uuid.UUID):
    """Delete a feature on the version you saw; devices get a tombstone."""
    commit(layers.delete_feature(db(), current_actor(), area_id, feature_id, **args))


@blp.post("/areas/<area>/imports")
@blp.arguments(ImportQuery, location="query")
@blp.arguments(ImportFile, location="files")
@blp.response(200, ImportReportOut)
@in_area
def import_file(args, files, area_id):
    """Import GeoJSON, a zipped Shapefile, a GeoPackage or KML into the area's layers (managers).

    `preview=true` reports what would change and changes nothing; rejected features come with
    the reason and, for invalid geometry, where; `repair=true` makes invalid geometries valid
    and lists each repair (also in the audit log). Features without RangerSync ids are matched
    by the field named in `key` (remembered for the layer's next import of the same source),
    else by the remembered key, else by content; `identity` tells, per layer, which."""
    upload = files["file"]
    report = imports.import_file(
        db(), current_actor(), area_id, upload.filename or "upload", upload.read(), **args
    )
    return report if args["preview"] else commit(report)


@blp.get("/areas/<area>/mappack")
@blp.response(200, ManifestOut)
@in_area
def mappack_manifest(area_id):
    """The manifest of the area's current offline map package (version, bounds, zooms, files
    with size and SHA-256, and whether the layers have changed since it was built)."""
    return packages.manifest(db(), current_actor(), area_id)


@tiles_blp.get(f"{API_PREFIX}/areas/<area>/mappack/<int:version>/<name>")
@in_area
def mappack_file(area_id, version: int, name: str):
    """One file of a package, with HTTP Range (206) so a dropped download resumes; If-Range
    with the file's SHA-256 as ETag keeps a resumed download from mixing two versions."""
    maps_dir = current_app.extensions["rangersync"].config.maps_dir
    path, sha256 = packages.package_file(db(), current_actor(), area_id, version, name, maps_dir)
    db().rollback()
    media = "application/json" if name.endswith(".json") else "application/vnd.sqlite3"
    response = send_file(path, mimetype=media, etag=sha256, conditional=True, max_age=0)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@blp.get("/areas/<area>/basemap")
@blp.response(200, BasemapOut)
@in_area
def basemap_info(area_id):
    """The park's raster base map (the one in the handhelds' package): format, zooms, bounds;
    404 when the park has none. Tiles at `/areas/{area}/basemap/{z}/{x}/{y}`."""
    maps_dir = current_app.extensions["rangersync"].config.maps_dir
    return basemap.info(read_db(), current_actor(), area_id, maps_dir)


@tiles_blp.get(f"{API_PREFIX}/areas/<area>/basemap/<int:z>/<int:x>/<int:y>")
@in_area
def basemap_tile(area_id, z: int, x: int, y: int):
    """One raster tile of the park's base map (XYZ addressing)."""
    maps_dir = current_app.extensions["rangersync"].config.maps_dir
    body, media, etag = basemap.tile(read_db(), current_actor(), area_id, z, x, y, maps_dir)
    response = Response(body, mimetype=media)
    response.set_etag(etag)
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response.make_conditional(request)


@blp.post("/areas/<area>/zones")
@blp.arguments(ZoneCreate)
@blp.response(201, FeatureRef)
@in_area
def create_zone(body, area, area_id):
    """Add a zone (managers)."""
    zone_id = commit(zones.create_zone(db(), current_actor(), area_id, **body))
    return {"id": zone_id, "href": f"{API_PREFIX}/areas/{area}/layers/zones"}


@blp.patch("/areas/<area>/zones/<uuid:zone_id>")
@blp.arguments(ZoneEdit)
@blp.response(200, FeatureRef)
@in_area
def edit_zone(body, area, area_id, zone_id: uuid.UUID):
    """Edit a zone on the version you saw (409 if it changed since)."""
    commit(zones.update_zone(db(), current_actor(), area_id, zone_id, **body))
    return {"id": zone_id, "href": f"{API_PREFIX}/areas/{area}/layers/zones"}


@blp.delete("/areas/<area>/zones/<uuid:zone_id>")
@blp.arguments(FeatureDelete, location="query")
@blp.response(204)
@in_area
def delete_zone(args, area_id, zone_id: uuid.UUID):
    """Delete a zone on the version you saw; devices get a tombstone."""
    commit(zones.delete_zone(db(), current_actor(), area_id, zone_id, **args))
