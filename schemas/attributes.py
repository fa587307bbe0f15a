"""Checks a report's attributes against its category's attribute schema.

The schemas are a small, explicit subset of JSON Schema (type, properties, required,
additionalProperties, enum, minimum, maximum, maxLength, items, minItems, maxItems), enough for
field forms and easy for a mobile app to render. Problems come back as (JSON pointer, message).
"""

from __future__ import annotations

import math
from typing import Any

MAX_ITEMS = 100


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))


_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": _is_integer,
    "number": _is_number,
    "boolean": lambda v: isinstance(v, bool),
}


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def check(schema: dict[str, Any], value: Any, pointer: str = "") -> list[tuple[str, str]]:
    kind = schema.get("type")
    if kind and not _TYPES[kind](value):
        return [(pointer or "/", f"must be {'an' if kind[0] in 'aeio' else 'a'} {kind}")]
    problems: list[tuple[str, str]] = []
    if "enum" in schema and value not in schema["enum"]:
        problems.append((pointer or "/", f"must be one of {', '.join(map(str, schema['enum']))}"))
    if _is_number(value):
        if "minimum" in schema and value < schema["minimum"]:
            problems.append((pointer or "/", f"must be at least {schema['minimum']}"))
        if "maximum" in schema and value > schema["maximum"]:
            problems.append((pointer or "/", f"must be at most {schema['maximum']}"))
    if isinstance(value, str) and len(value) > schema.get("maxLength", 10_000):
        problems.append(
            (pointer or "/", f"must be at most {schema.get('maxLength', 10_000)} characters")
        )
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            problems.append((pointer or "/", f"needs at least {schema['minItems']} items"))
        if len(value) > schema.get("maxItems", MAX_ITEMS):
            problems.append(
                (pointer or "/", f"has more than {schema.get('maxItems', MAX_ITEMS)} items")
            )
        if "items" in schema:
            for i, item in enumerate(value[:MAX_ITEMS]):
                problems += check(schema["items"], item, f"{pointer}/{i}")
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        for name in schema.get("required", []):
            if name not in value:
                problems.append((f"{pointer}/{_escape(name)}", "is required"))
        for name, item in value.items():
            if name in properties:
                problems += check(properties[name], item, f"{pointer}/{_escape(name)}")
            elif schema.get("additionalProperties", True) is False:
                problems.append((f"{pointer}/{_escape(name)}", "is not a field of this category"))
    return problems


KEYWORDS = {
    "type",
    "properties",
    "required",
    "additionalProperties",
    "enum",
    "minimum",
    "maximum",
    "maxLength",
    "items",
    "minItems",
    "maxItems",
    "title",
    "description",
}


def schema_problems(schema: Any, pointer: str = "") -> list[tuple[str, str]]:
    """What keeps `schema` from being an attribute schema this module can check (and a field
    app can render): only the subset above, types it knows, well-formed nesting."""
    if not isinstance(schema, dict):
        return [(pointer or "/", "must be an object")]
    problems = [
        (f"{pointer}/{_escape(k)}", "is not a supported keyword")
        for k in schema
        if k not in KEYWORDS
    ]
    if "type" in schema and schema["type"] not in _TYPES:
        problems.append((f"{pointer}/type", f"must be one of {', '.join(sorted(_TYPES))}"))
    for name in ("minimum", "maximum"):
        if name in schema and not _is_number(schema[name]):
            problems.append((f"{pointer}/{name}", "must be a number"))
    for name in ("maxLength", "minItems", "maxItems"):
        if name in schema and not (_is_integer(schema[name]) and schema[name] >= 0):
            problems.append((f"{pointer}/{name}", "must be a whole number ≥ 0"))
    if "enum" in schema and not (isinstance(schema["enum"], list) and schema["enum"]):
        problems.append((f"{pointer}/enum", "must be a non-empty list"))
    if "required" in schema and not (
        isinstance(schema["required"], list) and all(isinstance(r, str) for r in schema["required"])
    ):
        problems.append((f"{pointer}/required", "must be a list of field names"))
    if "additionalProperties" in schema and not isinstance(schema["additionalProperties"], bool):
        problems.append((f"{pointer}/additionalProperties", "must be true or false"))
    properties = schema.get("properties", {})
    if not isinstance(properties, dict):
        problems.append((f"{pointer}/properties", "must be an object"))
    else:
        for name, sub in properties.items():
            problems += schema_problems(sub, f"{pointer}/properties/{_escape(name)}")
    if "items" in schema:
        problems += schema_problems(schema["items"], f"{pointer}/items")
    return problems
