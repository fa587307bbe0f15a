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
# A spreadsheet runs a cell starting with one of these as a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _plain(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _cell(value: Any) -> Any:
    """Text as text, even in a spreadsheet: a leading quote keeps `=HYPERLINK(…)` in a ranger's
    notes from becoming a live formula (numbers stay numbers: -3.4 is no text)."""
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def to_csv(rows: Sequence[dict], columns: Sequence[str]) -> str:
    """One row per record; geometry as GeoJSON text; nested values as JSON. The only CSV writer:
    every export goes through it, so every cell is neutralised."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(_cell(c) for c in columns)
    for row in rows:
        writer.writerow(_cell(_plain(row.get(c))) for c in columns)
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
