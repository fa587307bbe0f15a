"""Wire shapes of reports as managers see and triage them."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from schemas.common import Out
from schemas.geo import Geometry

STATUSES = ("new", "in_review", "confirmed", "rejected", "closed")


class AttachmentOut(Out):
    id = fields.UUID(required=True)
    media_type = fields.String(required=True)
    size_bytes = fields.Integer(required=True)
    sha256 = fields.String(required=True)
    state = fields.String(
        required=True,
        metadata={"description": "expected (declared, no bytes yet), uploading, stored, failed"},
    )
    stored_at = fields.DateTime(allow_none=True)
    file = fields.Function(
        lambda a: f"/api/v1/attachments/{a.id}/file" if a.state == "stored" else None,
        metadata={"description": "where the file is, once stored"},
    )
    thumbnail = fields.Function(
        lambda a: f"/api/v1/attachments/{a.id}/thumbnail" if a.state == "stored" else None
    )


class ReportOut(Out):
    id = fields.UUID(required=True)
    area_id = fields.UUID(required=True)
    category = fields.String(required=True)
    status = fields.String(required=True)
    priority = fields.Integer(required=True)
    version = fields.Integer(required=True)
    attributes = fields.Dict()
    notes = fields.String(allow_none=True)
    geometry = Geometry()
    observed_at = fields.DateTime()
    observed_at_device = fields.DateTime()
    clock_suspect = fields.Boolean()
    location_suspect = fields.Boolean(
        metadata={"description": "said to be far (over 50 km) outside the park: check it"}
    )
    patrol_id = fields.UUID(allow_none=True)
    device_id = fields.UUID(allow_none=True)
    received_at = fields.DateTime()
    attachments = fields.List(fields.Nested(AttachmentOut))


class StatusChange(Schema):
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    base_version = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=1),
        metadata={"description": "the version the manager saw; a stale one is a 409"},
    )
    notes = fields.String(validate=validate.Length(max=5000), allow_none=True)


class CategoryIn(Schema):
    """A park's own report category, as an admin writes it (API, or the file that
    `rangersync categories import` loads: a JSON list of these)."""

    key = fields.String(
        required=True,
        validate=validate.Regexp(
            r"^[a-z0-9_]+(\.[a-z0-9_]+)*$",
            error="lower-case letters, digits and '_', dotted under a parent: fence.damage",
        ),
    )
    label = fields.String(required=True, validate=validate.Length(min=1, max=200))
    attribute_schema = fields.Dict(
        load_default=lambda: {"type": "object", "properties": {}},
        metadata={"description": "the attributes' JSON Schema subset (schemas/attributes.py)"},
    )
    geometry_kind = fields.String(
        load_default="point", validate=validate.OneOf(("point", "polygon", "point_or_polygon"))
    )
    hostile = fields.Boolean(load_default=False)
    sensitive = fields.Boolean(load_default=True)
    retired = fields.Boolean(load_default=False)


class CategoryOut(Out):
    key = fields.String(required=True)
    label = fields.String(required=True)
    version = fields.Integer(required=True)
    action = fields.String(
        required=True, metadata={"description": "added, changed (a new version), unchanged"}
    )
