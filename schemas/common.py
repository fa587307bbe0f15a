"""Shapes shared by every capability: problem documents, pagination."""

from __future__ import annotations

from marshmallow import INCLUDE, Schema, fields


class Problem(Schema):
    """An RFC 9457 problem document (application/problem+json). A problem type may add its own
    members (RFC 9457's extension members): `retry_after_s`, `max_cells`, `supported`…"""

    class Meta:
        unknown = INCLUDE  # documented as open: extension members are part of the standard

    type = fields.String(metadata={"description": "stable URI reference naming the problem"})
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    instance = fields.String()
    errors = fields.Dict(metadata={"description": "per-field messages, keyed by field"})


class Out(Schema):
    """Base for response schemas: ordered output."""

    class Meta:
        ordered = True
