"""Tables behind the figures as CSV (RFC 4180) or GeoJSON (RFC 7946): one way for every table."""

from __future__ import annotations

import csv
import io
import json
import math
import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

FORMATS = ("json", "csv", "geojson")


def _plain(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def to_csv(rows: Sequence[dict], columns: Sequence[str]) -> str:
    """One row per record; geometry as GeoJSON text; nested values as JSON."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        values = [_plain(row.get(c)) for c in columns]
        writer.writerow(
            json.dumps(v, separators=(",", ":")) if isinstance(v, dict | list) else v
            for v in values
        )
    return out.getvalue()


def to_geojson(rows: Sequence[dict], columns: Sequence[str]) -> dict:
    """A FeatureCollection: `geometry` as each feature's geometry, other columns as properties."""
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": row.get("geometry"),
                "properties": {c: _plain(row.get(c)) for c in columns if c != "geometry"},
            }
            for row in rows
        ],
    }
