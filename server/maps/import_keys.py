"""The key fields map imports tell id-less features apart by: the one named in the request, or
the one remembered from the layer's last import of the same source (a layer of a file: a
Shapefile's name, a GeoPackage table, a KML folder), which the next import then uses unasked.
A key that proved not to be one (duplicate values) is not remembered.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text

from server.core.errors import Invalid
from server.maps.importers import SourceRead


@dataclass
class Identity:
    """How a target layer's features were told apart: by RangerSync `id`, by `key` (named in
    the request, or remembered from the import of `remembered_from`), or by `content`."""

    method: str
    key: str | None = None
    remembered_from: str | None = None

    def __str__(self) -> str:
        if self.method != "key":
            return f"matched by {self.method}"
        told = f", remembered from {self.remembered_from}" if self.remembered_from else ""
        return f"matched by key {self.key}{told}"


def key_fields(source: SourceRead, key: str) -> dict[str, str]:
    """The field the key names in each layer of the file, spelt as the file spells it (a
    Shapefile's fields are upper case); a key that a layer lacks is refused."""
    found, lacking = {}, []
    for source_layer, names in source.fields.items():
        spelt = [n for n in names if n == key] or [n for n in names if n.lower() == key.lower()]
        if len(spelt) == 1:
            found[source_layer] = spelt[0]
        else:
            lacking.append(f"{source_layer!r} (fields: {', '.join(names) or 'none'})")
    if lacking:
        raise Invalid(
            f"the key field {key!r} is not a field of {'; '.join(lacking)}",
            errors={"key": ["not a field of the file"]},
        )
    return found


def remembered(session, area_id, layers: list[str]) -> dict[tuple[str, str], tuple[str, str]]:
    """(layer, source) → (key field, file it was remembered from)."""
    rows = session.execute(
        text(
            "SELECT layer, source, key_field, filename FROM map_import_sources"
            " WHERE area_id = :a AND layer = ANY(:layers)"
        ),
        {"a": area_id, "layers": layers},
    )
    return {(r.layer, r.source): (r.key_field, r.filename) for r in rows}


def choose(target, rows, key_fields, remembered, source: SourceRead, notes) -> Identity:
    """The key named in the request, else the one remembered for every source of this layer
    in the file (and still a field of it), else content."""
    sources = sorted({c.source_layer for c in rows})
    if key_fields:
        return Identity("key", key_fields[sources[0]])
    known = {remembered.get((target, s)) for s in sources}
    if known == {None}:
        return Identity("content")
    if len(known) == 1:
        key, filename = next(iter(known))
        spelt = [n for n in source.fields.get(sources[0], []) if n == key]
        if spelt:
            return Identity("key", key, remembered_from=filename)
        notes.append(
            f"layer {target}: the key {key!r} remembered from {filename} is not a field of"
            " this file: matched by content"
        )
    else:
        notes.append(
            f"layer {target}: its sources in this file were imported with different keys:"
            " matched by content"
        )
    return Identity("content")


def remember(session, area_id, remember: list[tuple[str, str, str]], filename: str) -> None:
    if not remember:
        return
    layers, sources, keys = (list(column) for column in zip(*remember, strict=True))
    session.execute(
        text(
            "INSERT INTO map_import_sources (area_id, layer, source, key_field, filename)"
            " SELECT :a, u.layer, u.source, u.key, :f"
            " FROM unnest(CAST(:layers AS text[]), CAST(:sources AS text[]),"
            " CAST(:keys AS text[])) AS u(layer, source, key)"
            " ON CONFLICT (area_id, layer, source) DO UPDATE SET key_field = excluded.key_field,"
            " filename = excluded.filename, imported_at = now()"
        ),
        {"a": area_id, "f": filename, "layers": layers, "sources": sources, "keys": keys},
    )
