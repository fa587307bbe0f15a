"""Wire shapes of device enrolment and device management."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from schemas.common import Out


class EnrolmentCodeCreate(Schema):
    username = fields.String(
        required=True,
        validate=validate.Length(min=1, max=63),
        metadata={"description": "the ranger the device will belong to"},
    )


class EnrolmentCodeOut(Out):
    code = fields.String(required=True, metadata={"description": "shown once; one use only"})
    expires_at = fields.DateTime(required=True)
    area_id = fields.UUID(required=True)
    username = fields.String(required=True)
    enrol_uri = fields.String(metadata={"description": "what the QR code holds"})
    qr_svg = fields.String(metadata={"description": "the enrolment QR code as an SVG image"})


class EnrolRequest(Schema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=64))
    name = fields.String(validate=validate.Length(min=1, max=200))
    app_version = fields.String(validate=validate.Length(min=1, max=64))
    platform = fields.String(validate=validate.Length(min=1, max=64))


class EnrolOut(Out):
    device_id = fields.UUID(required=True)
    token = fields.String(required=True, metadata={"description": "shown once; keep it secret"})
    area_id = fields.UUID(required=True)
    area_slug = fields.String(required=True)
    username = fields.String(required=True)


class DeviceOut(Out):
    id = fields.UUID(required=True)
    area_id = fields.UUID(required=True)
    name = fields.String(required=True)
    username = fields.String(required=True)
    enrolled_at = fields.DateTime()
    revoked_at = fields.DateTime(allow_none=True)
    last_seen_at = fields.DateTime(allow_none=True)
    app_version = fields.String(allow_none=True)
    platform = fields.String(allow_none=True)
