"""Wire shapes of protected areas."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from schemas.common import Out
from schemas.geo import Geometry
from schemas.maps import ManifestOut

SLUG = validate.Regexp(
    r"^[a-z0-9][a-z0-9-]{0,62}$",
    error="1-63 characters: lower-case letters, digits and '-', starting with a letter or digit",
)


class AreaOut(Out):
    id = fields.UUID(required=True)
    slug = fields.String(required=True)
    name = fields.String(required=True)
    timezone = fields.String()
    role = fields.String(
        allow_none=True, metadata={"description": "the caller's role in this area"}
    )
    bbox = fields.List(fields.Float(), metadata={"description": "[west, south, east, north]"})
    boundary = Geometry(allowed=("MultiPolygon",))
    created_at = fields.DateTime()
    map_package = fields.Nested(
        ManifestOut,
        allow_none=True,
        metadata={"description": "manifest of the current offline map package (one area only)"},
    )


class AreaCreate(Schema):
    slug = fields.String(required=True, validate=SLUG)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    timezone = fields.String(load_default="UTC", validate=validate.Length(min=1, max=64))
    boundary = Geometry(allowed=("Polygon", "MultiPolygon"), required=True)


class AreaEdit(Schema):
    name = fields.String(validate=validate.Length(min=1, max=200))
    timezone = fields.String(validate=validate.Length(min=1, max=64))
    boundary = Geometry(allowed=("Polygon", "MultiPolygon"))
