"""What an export holds: every partner collection of one area, read through the partner API's
service (so the same geoprivacy applies, whatever the format), and the writers per format."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.orm import Session

from server.core.errors import Invalid
from server.exports import formats
from server.exports.formats import AreaData, Layer
from server.ogc import service as ogc
from server.ogc.service import Access, ItemsRequest

PAGE = 5_000


def collect(session: Session, access: Access, area_slug: str) -> AreaData:
    """Every collection of the area the caller may read, all features (keyset pages)."""
    found = [c for c in ogc.collections(session, access) if c.area_slug == area_slug]
    if not found:
        ogc.collection(session, access, f"{area_slug}.boundary")  # 404 for the right reason
        raise Invalid(f"nothing of {area_slug!r} may be exported with these rights")
    layers = []
    for c in found:
        features, after = [], None
        while True:
            page = ogc.items(session, access, c.id, ItemsRequest(limit=PAGE, after=after))
            features += [json.loads(f) for f in page.features]
            if not page.has_next:
                break
            after = page.last_key
        layers.append(Layer(c.source.kind, c.source.title, features))
    first = found[0]
    return AreaData(first.area_slug, first.area_name, first.bbox, layers)


def export(session: Session, access: Access, area_slug: str, fmt: str, output: Path) -> dict:
    """Write the area's export in `fmt` to `output`; answers what was written per layer."""
    writers: dict[str, Callable[[AreaData, Path], dict]] = formats.WRITERS
    if fmt not in writers:
        raise Invalid(f"unknown format {fmt!r}", errors={"format": [", ".join(writers)]})
    return writers[fmt](collect(session, access, area_slug), output)
