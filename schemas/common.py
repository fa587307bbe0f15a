"""Shapes shared by every capability: problem documents, pagination, strict JSON."""

from __future__ import annotations

import json
from typing import Any

from marshmallow import Schema, fields


class StrictJSONError(ValueError):
    pass


def _refuse_constant(name: str) -> Any:
    raise StrictJSONError(f"{name} is not valid JSON")


def loads_strict(data: str | bytes) -> Any:
    """json.loads without Python's extensions: NaN, Infinity and -Infinity are refused."""
    return json.loads(data, parse_constant=_refuse_constant)


class Problem(Schema):
    """An RFC 9457 problem document (application/problem+json)."""

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
