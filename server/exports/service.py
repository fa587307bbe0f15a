"""What an export holds: every partner collection of one area, read through the partner API's
service (so the same geoprivacy applies, whatever the format), and the writers per format.

Managers may ask for everything (`everything=True`): the partner collections plus every report
at its true position with all its attributes and notes, and every patrol's line. That export is
for the park's own use; the Darwin Core Archive stays the partner view whatever is asked, as it
is meant for publication.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from server.core.errors import Invalid
from server.core.policy import Action, Actor, authorize
from server.exports import formats
from server.exports.formats import AreaData, Layer
from server.ogc import service as ogc
from server.ogc.service import Access, ItemsRequest
from server.species import service as species

PAGE = 5_000

# Everything a manager sees of the area's reports and patrols (never partners).
REPORTS = """
    SELECT json_build_object('type', 'Feature', 'id', r.id, 'geometry',
               ST_AsGeoJSON(r.geom, 7)::json, 'properties', json_build_object(
                   'category', c.key, 'category_label', c.label, 'status', r.status,
                   'priority', r.priority, 'observed_at', r.observed_at,
                   'attributes', r.attributes, 'notes', r.notes, 'patrol_id', r.patrol_id,
                   'clock_suspect', r.clock_suspect))::text
    FROM reports r JOIN report_categories c ON c.id = r.category_id
    WHERE r.area_id = :area ORDER BY r.observed_at, r.id"""
PATROLS = """
    SELECT json_build_object('type', 'Feature', 'id', p.id, 'geometry',
               ST_AsGeoJSON(p.line, 7)::json, 'properties', json_build_object(
                   'name', p.patrol_type || ' patrol ' || to_char(p.started_at, 'YYYY-MM-DD'),
                   'patrol_type', p.patrol_type, 'started_at', p.started_at,
                   'ended_at', p.ended_at, 'distance_m', round(p.distance_m::numeric, 1),
                   'point_count', p.point_count))::text
    FROM patrols p WHERE p.area_id = :area AND p.line IS NOT NULL ORDER BY p.started_at, p.id"""


Progress = Callable[[int], None]  # called with the features read so far


def _collections(
    session: Session, access: Access, area_slug: str, fmt: str | None = None
) -> list[ogc.Collection]:
    """The area's collections the caller may read, and of those the ones `fmt` writes."""
    found = [c for c in ogc.collections(session, access) if c.area_slug == area_slug]
    if not found:
        ogc.collection(session, access, f"{area_slug}.boundary")  # 404 for the right reason
        raise Invalid(f"nothing of {area_slug!r} may be exported with these rights")
    wanted = formats.COLLECTIONS_OF.get(fmt or "")
    return [c for c in found if wanted is None or c.source.kind in wanted]


def count(
    session: Session,
    access: Access,
    area_slug: str,
    fmt: str | None = None,
    *,
    everything: bool = False,
) -> int:
    """The features an export of the area in `fmt` reads (checks the caller's rights first)."""
    total = sum(
        ogc.count(session, access, c.id) for c in _collections(session, access, area_slug, fmt)
    )
    if everything:
        area_id = session.scalar(text("SELECT id FROM areas WHERE slug = :s"), {"s": area_slug})
        authorize(access.actor, Action.REPORT_TRIAGE, area_id, "area")
        total += sum(
            session.scalar(text(f"SELECT count(*) FROM ({sql}) x"), {"area": area_id}) or 0
            for sql in (REPORTS, PATROLS)
        )
    return total


def collect(
    session: Session,
    access: Access,
    area_slug: str,
    progress: Progress | None = None,
    fmt: str | None = None,
) -> AreaData:
    """Every collection of the area the caller may read (those `fmt` writes), all features
    (keyset pages)."""
    found = _collections(session, access, area_slug, fmt)
    layers, read = [], 0
    for c in found:
        features, after = [], None
        while True:
            page = ogc.items(session, access, c.id, ItemsRequest(limit=PAGE, after=after))
            features += [json.loads(f) for f in page.features]
            read += len(page.features)
            if progress:
                progress(read)
            if not page.has_next:
                break
            after = page.last_key
        layers.append(Layer(c.source.kind, c.source.title, features))
    first = found[0]
    observations = next((layer for layer in layers if layer.name == "observations"), None)
    names = {f["properties"]["species"] for f in observations.features} if observations else set()
    return AreaData(
        first.area_slug, first.area_name, first.bbox, layers, taxa=taxon_terms(session, names)
    )


def taxon_terms(session: Session, names: set[str | None]) -> dict[str, dict[str, str]]:
    """Darwin Core taxon terms of each species name the taxon list resolves to one taxon."""
    resolved = species.resolve_names(session, [n for n in names if n])
    return {
        name: {
            term: value
            for term, value in (
                ("scientificName", t.scientific_name),
                ("scientificNameAuthorship", t.author),
                ("taxonRank", t.rank.lower()),
                ("kingdom", t.kingdom),
                ("phylum", t.phylum),
                ("class", t.class_name),
                ("order", t.order_name),
                ("family", t.family),
                ("genus", t.genus),
            )
            if value
        }
        for name, t in resolved.items()
    }


def field_layers(session: Session, actor: Actor, area_id: uuid.UUID) -> list[Layer]:
    """The managers' extra layers: reports as recorded, patrol lines."""
    authorize(actor, Action.REPORT_TRIAGE, area_id, "area")
    return [
        Layer(
            name, title, [json.loads(row) for row in session.scalars(text(sql), {"area": area_id})]
        )
        for name, title, sql in (("reports", "Reports", REPORTS), ("patrols", "Patrols", PATROLS))
    ]


def export(
    session: Session,
    access: Access,
    area_slug: str,
    fmt: str,
    output: Path,
    *,
    everything: bool = False,
    progress: Progress | None = None,
) -> dict:
    """Write the area's export in `fmt` to `output`; answers what was written per layer.
    `progress` hears the features read so far, page by page (the writing comes after)."""
    writers: dict[str, Callable[[AreaData, Path], dict]] = formats.WRITERS
    if fmt not in writers:
        raise Invalid(f"unknown format {fmt!r}", errors={"format": [", ".join(writers)]})
    data = collect(session, access, area_slug, progress, fmt)
    if everything and formats.writes_everything(fmt):
        area_id = session.scalar(text("SELECT id FROM areas WHERE slug = :s"), {"s": area_slug})
        extra = field_layers(session, access.actor, area_id)
        if progress:
            progress(sum(len(layer.features) for layer in data.layers + extra))
        data = AreaData(data.slug, data.name, data.bbox, data.layers + extra, data.taxa)
    return writers[fmt](data, output)
