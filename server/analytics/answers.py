"""How analytics views answer: JSON through the row schema, or the same table as an export."""

from __future__ import annotations

import json
from collections.abc import Sequence

from flask import Response
from marshmallow import Schema

from server.analytics.export import to_csv, to_geojson


def table(rows: Sequence[dict], schema: type[Schema], fmt: str, name: str):
    """`rows` as the schema dumps them (json), or as an attachment named `name` (csv, geojson):
    the export's columns are the schema's fields, so every table exports the same way."""
    if fmt == "json":
        return rows
    dumped = schema(many=True).dump(rows)
    columns = list(schema._declared_fields)
    if fmt == "csv":
        body, media, ext = to_csv(dumped, columns), "text/csv; charset=utf-8", "csv"
    else:
        body = json.dumps(to_geojson(dumped, columns), separators=(",", ":"))
        media, ext = "application/geo+json", "geojson"
    return Response(
        body,
        mimetype=media,
        headers={"Content-Disposition": f'attachment; filename="{name}.{ext}"'},
    )
