"""Wire shapes of map layers, imports and offline map packages."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from schemas.common import Out
from schemas.geo import Geometry

LAYER = validate.Regexp(
    r"^[a-z][a-z0-9_]{0,31}$",
    error="1–32 lower-case letters, digits or '_', starting with a letter",
)


class TileQuery(Schema):
    area = fields.String(
        load_default=None,
        metadata={"description": "only this area (slug or id); default: all yours"},
    )


class LayerOut(Out):
    name = fields.String(required=True)
    kind = fields.String(metadata={"description": "'features' or 'built-in'"})
    count = fields.Integer()
    geometry_types = fields.List(fields.String())


class FeatureCreate(Schema):
    geometry = Geometry(required=True)
    name = fields.String(load_default=None, validate=validate.Length(max=500))
    properties = fields.Dict(keys=fields.String(), load_default=dict)


class FeatureEdit(Schema):
    version = fields.Integer(
        required=True, strict=True, metadata={"description": "the version the edit was made on"}
    )
    geometry = Geometry()
    name = fields.String(validate=validate.Length(max=500))
    properties = fields.Dict(keys=fields.String())
    layer = fields.String(validate=LAYER)


class FeatureDelete(Schema):
    version = fields.Integer(required=True, metadata={"description": "the version you saw"})


class ZoneCreate(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    kind = fields.String(load_default="management")
    geometry = Geometry(allowed=("Polygon", "MultiPolygon"), required=True)
    properties = fields.Dict(keys=fields.String(), load_default=dict)


class ZoneEdit(Schema):
    version = fields.Integer(required=True, strict=True)
    name = fields.String(validate=validate.Length(min=1, max=200))
    kind = fields.String()
    geometry = Geometry(allowed=("Polygon", "MultiPolygon"))
    properties = fields.Dict(keys=fields.String())


class FeatureRef(Out):
    id = fields.UUID(required=True)
    href = fields.String()


class ImportQuery(Schema):
    layer = fields.String(load_default=None, validate=LAYER)
    preview = fields.Boolean(load_default=False, metadata={"description": "report, change nothing"})
    repair = fields.Boolean(
        load_default=False, metadata={"description": "make invalid geometries valid (logged)"}
    )
    replace = fields.Boolean(
        load_default=False, metadata={"description": "delete layer features missing from the file"}
    )
    key = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=200),
        metadata={
            "description": "the field that identifies features of a file without RangerSync ids;"
            " remembered for the layer's next import of the same source. Without it: the"
            " remembered key, else the features' content"
        },
    )


class ImportFile(Schema):
    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary"})


class RejectedOut(Out):
    source_layer = fields.String()
    index = fields.Integer(metadata={"description": "0-based feature number in its source layer"})
    source_id = fields.String(allow_none=True)
    reason = fields.String(required=True)
    detail = fields.String()
    location = fields.List(fields.Float(), allow_none=True)


class RepairedOut(Out):
    source_layer = fields.String()
    index = fields.Integer()
    detail = fields.String()


class IdentityOut(Out):
    method = fields.String(metadata={"description": "'id', 'key' or 'content'"})
    key = fields.String(allow_none=True)
    remembered_from = fields.String(
        allow_none=True, metadata={"description": "the file the key was remembered from"}
    )


class ImportReportOut(Out):
    preview = fields.Boolean()
    layers = fields.Dict(keys=fields.String(), values=fields.Dict())
    identity = fields.Dict(
        keys=fields.String(),
        values=fields.Nested(IdentityOut),
        metadata={"description": "per target layer, how its features were told apart"},
    )
    accepted = fields.Integer()
    created = fields.Integer()
    updated = fields.Integer()
    unchanged = fields.Integer()
    deleted = fields.Integer()
    rejected = fields.List(fields.Nested(RejectedOut))
    repaired = fields.List(fields.Nested(RepairedOut))
    notes = fields.List(fields.String())


class PackageFileOut(Out):
    name = fields.String()
    role = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    href = fields.String()
    from_version = fields.Integer(metadata={"description": "a delta: the version it updates"})


class ManifestOut(Out):
    area = fields.String()
    version = fields.Integer()
    built_at = fields.DateTime()
    stale = fields.Boolean()
    bounds = fields.List(fields.Float())
    center = fields.List(fields.Float())
    min_zoom = fields.Integer()
    max_zoom = fields.Integer()
    tile_count = fields.Integer()
    tiles_sha256 = fields.String(
        metadata={"description": "digest of the tiles (sync/protocol/digests.py)"}
    )
    size = fields.Integer(metadata={"description": "bytes of a full download (deltas aside)"})
    base_url = fields.String()
    files = fields.List(fields.Nested(PackageFileOut))


class BasemapOut(Out):
    """A park's raster base map as the dashboard's map reads it."""

    format = fields.String(metadata={"description": "png, jpg or webp"})
    sha256 = fields.String()
    minzoom = fields.Integer()
    maxzoom = fields.Integer()
    bounds = fields.List(fields.Float(), allow_none=True, metadata={"description": "W,S,E,N"})
