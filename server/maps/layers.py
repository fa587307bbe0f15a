"""Managing map layers: list them, read them as GeoJSON, and create, edit and delete features.

Every change bumps the feature's `version` and its `change_xid` (trigger), so devices get it on
their next pull; a deletion is soft (`deleted_at`) and reaches devices as a tombstone. Edits and
deletions name the version they were made on, and a stale one is a 409, never a silent overwrite.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

from geoalchemy2.shape import from_shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from server.areas.models import LAYER_PATTERN, MapFeature
from server.core import audit
from server.core.errors import Conflict, Invalid, NotFound
from server.core.policy import Action, Actor, authorize
from server.maps.tiles import BUILT_IN_LAYERS

# Keys a feature's properties may not use: they are the feature's own columns on the wire.
RESERVED_PROPERTIES = frozenset({"id", "name", "version", "layer"})
# PostGIS prints the shortest decimal that reads back as the same double, cut at this many
# decimals: 30 is enough for every coordinate, so export → import is exact (15 was not).
_GEOJSON_DIGITS = 30


@dataclass(frozen=True)
class LayerInfo:
    name: str
    kind: str  # "features" or "built-in"
    count: int
    geometry_types: list[str]


@dataclass(frozen=True)
class Document:
    """A GeoJSON document rendered once, with the ETag of its bytes."""

    body: bytes
    etag: str


def check_layer_name(layer: str) -> None:
    if not re.fullmatch(LAYER_PATTERN, layer) or layer in BUILT_IN_LAYERS:
        raise Invalid(
            f"{layer!r} cannot name a feature layer: 1–32 lower-case letters, digits or '_', "
            f"starting with a letter, and not one of {', '.join(BUILT_IN_LAYERS)}",
            errors={"layer": ["invalid layer name"]},
        )


def list_layers(session: Session, actor: Actor, area_id: uuid.UUID) -> list[LayerInfo]:
    authorize(actor, Action.MAP_VIEW, area_id, "area")
    rows = session.execute(
        text(
            "SELECT layer, count(*) AS n, array_agg(DISTINCT GeometryType(geom)) AS types"
            " FROM map_features WHERE area_id = :area AND deleted_at IS NULL"
            " GROUP BY layer ORDER BY layer"
        ),
        {"area": area_id},
    ).all()
    zones = session.scalar(
        text("SELECT count(*) FROM zones WHERE area_id = :area AND deleted_at IS NULL"),
        {"area": area_id},
    )
    return [
        LayerInfo("boundary", "built-in", 1, ["MULTIPOLYGON"]),
        LayerInfo("zones", "built-in", zones, ["MULTIPOLYGON"]),
        *(LayerInfo(r.layer, "features", r.n, sorted(r.types)) for r in rows),
    ]


_FEATURE_JSON = f"""
    json_build_object(
        'type', 'Feature', 'id', f.id,
        'geometry', ST_AsGeoJSON(f.geom, {_GEOJSON_DIGITS})::json,
        'properties', f.properties || jsonb_build_object(
            'name', f.name, 'layer', f.layer, 'version', f.version))"""
_LAYER_QUERIES = {
    "features": f"""
        SELECT {_FEATURE_JSON} AS feature FROM map_features f
        WHERE f.area_id = :area AND f.layer = :layer AND f.deleted_at IS NULL ORDER BY f.id""",  # noqa: S608
    "zones": f"""
        SELECT json_build_object(
            'type', 'Feature', 'id', z.id,
            'geometry', ST_AsGeoJSON(z.geom, {_GEOJSON_DIGITS})::json,
            'properties', z.properties || jsonb_build_object(
                'name', z.name, 'kind', z.kind, 'version', z.version)) AS feature
        FROM zones z WHERE z.area_id = :area AND z.deleted_at IS NULL ORDER BY z.id""",  # noqa: S608
    "boundary": f"""
        SELECT json_build_object(
            'type', 'Feature', 'id', a.id,
            'geometry', ST_AsGeoJSON(a.boundary, {_GEOJSON_DIGITS})::json,
            'properties', json_build_object('slug', a.slug, 'name', a.name)) AS feature
        FROM areas a WHERE a.id = :area""",  # noqa: S608
}


def _document(value: Any) -> Document:
    body = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
    return Document(body, hashlib.sha256(body).hexdigest()[:32])


def layer_geojson(session: Session, actor: Actor, area_id: uuid.UUID, layer: str) -> Document:
    """A layer as a GeoJSON FeatureCollection (RFC 7946), in a stable order."""
    authorize(actor, Action.MAP_VIEW, area_id, "area")
    kind = layer if layer in ("zones", "boundary") else "features"
    if kind == "features" and layer in BUILT_IN_LAYERS:
        raise NotFound(f"layer {layer!r} is not served as GeoJSON here")
    features = session.scalars(text(_LAYER_QUERIES[kind]), {"area": area_id, "layer": layer}).all()
    if not features and kind == "features":
        raise NotFound(f"no layer {layer!r} in this area")
    return _document({"type": "FeatureCollection", "name": layer, "features": features})


def _feature(session: Session, area_id: uuid.UUID, feature_id: uuid.UUID) -> MapFeature:
    feature = session.get(MapFeature, feature_id)
    if feature is None or feature.area_id != area_id or feature.deleted_at is not None:
        raise NotFound("no such map feature")
    return feature


def feature_geojson(
    session: Session, actor: Actor, area_id: uuid.UUID, feature_id: uuid.UUID
) -> Document:
    authorize(actor, Action.MAP_VIEW, area_id, "area")
    _feature(session, area_id, feature_id)
    return _document(
        session.scalar(
            text(f"SELECT {_FEATURE_JSON} FROM map_features f WHERE f.id = :id"),  # noqa: S608
            {"id": feature_id},
        )
    )


def _check_properties(properties: dict) -> dict:
    clash = sorted(RESERVED_PROPERTIES & set(properties))
    if clash:
        raise Invalid(
            f"properties may not use {', '.join(clash)}: those are the feature's own fields",
            errors={"properties": [f"reserved key {k!r}" for k in clash]},
        )
    return properties


def _check_inside(session: Session, area_id: uuid.UUID, geometry: BaseGeometry) -> None:
    inside = session.scalar(
        text(
            "SELECT ST_Intersects(boundary, ST_GeomFromText(:wkt, 4326)) FROM areas WHERE id = :a"
        ),
        {"wkt": geometry.wkt, "a": area_id},
    )
    if not inside:
        raise Invalid(
            "the geometry lies entirely outside the area's boundary",
            errors={"geometry": ["outside the area"]},
        )


def create_feature(
    session: Session,
    actor: Actor,
    area_id: uuid.UUID,
    layer: str,
    *,
    geometry: BaseGeometry,
    name: str | None = None,
    properties: dict | None = None,
) -> uuid.UUID:
    authorize(actor, Action.MAP_EDIT, area_id, "area")
    check_layer_name(layer)
    _check_inside(session, area_id, geometry)
    feature = MapFeature(
        area_id=area_id,
        layer=layer,
        name=name,
        geom=from_shape(geometry, srid=4326),
        properties=_check_properties(properties or {}),
    )
    session.add(feature)
    session.flush()
    audit.record(
        session,
        actor,
        "map.feature.create",
        "map_feature",
        feature.id,
        area_id=area_id,
        layer=layer,
    )
    return feature.id


def _on_version(feature: MapFeature, version: int) -> None:
    if feature.version != version:
        raise Conflict(
            f"the feature is at version {feature.version}, not {version}: reload it and edit again",
            extra={"current_version": feature.version},
        )


def update_feature(
    session: Session,
    actor: Actor,
    area_id: uuid.UUID,
    feature_id: uuid.UUID,
    *,
    version: int,
    geometry: BaseGeometry | None = None,
    name: str | None = None,
    properties: dict | None = None,
    layer: str | None = None,
) -> uuid.UUID:
    authorize(actor, Action.MAP_EDIT, area_id, "area")
    feature = _feature(session, area_id, feature_id)
    session.refresh(feature, with_for_update=True)
    _on_version(feature, version)
    if geometry is not None:
        _check_inside(session, area_id, geometry)
        feature.geom = from_shape(geometry, srid=4326)
    if name is not None:
        feature.name = name
    if properties is not None:
        feature.properties = _check_properties(properties)
    if layer is not None:
        check_layer_name(layer)
        feature.layer = layer
    feature.version += 1
    feature.updated_at = func.now()
    session.flush()
    audit.record(
        session,
        actor,
        "map.feature.update",
        "map_feature",
        feature.id,
        area_id=area_id,
        version=feature.version,
    )
    return feature.id


def delete_feature(
    session: Session, actor: Actor, area_id: uuid.UUID, feature_id: uuid.UUID, *, version: int
) -> None:
    authorize(actor, Action.MAP_EDIT, area_id, "area")
    feature = _feature(session, area_id, feature_id)
    session.refresh(feature, with_for_update=True)
    _on_version(feature, version)
    feature.version += 1
    feature.deleted_at = func.now()
    feature.updated_at = func.now()
    session.flush()
    audit.record(
        session,
        actor,
        "map.feature.delete",
        "map_feature",
        feature.id,
        area_id=area_id,
        layer=feature.layer,
    )


def feature_count(session: Session, area_id: uuid.UUID) -> int:
    return session.scalar(
        select(func.count()).where(MapFeature.area_id == area_id, MapFeature.deleted_at.is_(None))
    )
