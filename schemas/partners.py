"""Wire shapes of partner keys, their request log and geoprivacy rules."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from schemas.common import Out

VISIBILITIES = ("hidden", "snapped", "exact")


class KeyIssue(Schema):
    organisation = fields.String(required=True, validate=validate.Length(min=1, max=200))
    areas = fields.List(
        fields.String(),
        load_default=None,
        metadata={"description": "slugs of the areas the key reaches; default: this area"},
    )
    collections = fields.List(
        fields.String(),
        load_default=None,
        metadata={
            "description": "boundary, zones, observations, effort, findings, layer-<layer>;"
            " default: every collection"
        },
    )
    days = fields.Integer(load_default=365, strict=True, validate=validate.Range(1, 3 * 365))
    networks = fields.List(
        fields.String(), load_default=None, metadata={"description": "CIDR; default: anywhere"}
    )
    rate_limit = fields.String(
        load_default="120/minute", metadata={"description": "e.g. 120/minute, 5000/day"}
    )


class KeyOut(Out):
    id = fields.UUID()
    organisation = fields.String()
    key_prefix = fields.String()
    areas = fields.List(fields.String())
    collections = fields.List(fields.String(), allow_none=True)
    networks = fields.List(fields.String(), allow_none=True)
    rate_limit = fields.String()
    expires_at = fields.DateTime()
    revoked_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    last_used_at = fields.DateTime(allow_none=True)
    state = fields.String(metadata={"description": "active, expired or revoked"})


class IssuedKeyOut(Out):
    id = fields.UUID()
    key = fields.String(metadata={"description": "shown once: only its hash is kept"})
    organisation = fields.String()
    areas = fields.List(fields.String())
    collections = fields.List(fields.String(), allow_none=True)
    networks = fields.List(fields.String(), allow_none=True)
    rate_limit = fields.String()
    expires_at = fields.DateTime()


class RequestLogQuery(Schema):
    key = fields.UUID(load_default=None)
    before = fields.Integer(load_default=None, metadata={"description": "ids below this one"})
    limit = fields.Integer(load_default=100, validate=validate.Range(1, 1000))


class RequestOut(Out):
    id = fields.Integer()
    key_id = fields.UUID()
    organisation = fields.String()
    at = fields.DateTime()
    method = fields.String()
    path = fields.String()
    query = fields.String()
    collection = fields.String(allow_none=True)
    bbox = fields.List(fields.Float(), allow_none=True)
    features = fields.Integer(allow_none=True)
    status = fields.Integer()
    remote_addr = fields.String(allow_none=True)


class GeoprivacyRule(Schema):
    category = fields.String(
        load_default=None,
        allow_none=True,
        metadata={"description": "category key, with its sub-categories; null: every category"},
    )
    species = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(min=1, max=100)
    )
    visibility = fields.String(required=True, validate=validate.OneOf(VISIBILITIES))
    cell_m = fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        validate=validate.Range(100, 100_000),
        metadata={"description": "grid cell size in metres, when snapped"},
    )
    embargo_days = fields.Integer(load_default=0, strict=True, validate=validate.Range(0, 36500))


class GeoprivacyRules(Schema):
    rules = fields.List(fields.Nested(GeoprivacyRule), required=True)
