"""Importing a map file into an area's layers: a preview of what will change, then the change,
set-based, versioned and audited like any other edit.

Features are matched by id (a file exported from RangerSync carries its features' ids): a match
with other content is an update, a match with the same content unchanged, anything else new.
With `replace`, features of the target layers that the file no longer holds are deleted.
The database decides what lies outside the area; the file reader decides everything else.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections import Counter
from dataclasses import dataclass, field

import shapely
from shapely.geometry import MultiPolygon, Polygon
from sqlalchemy import text
from sqlalchemy.orm import Session

from server.areas.models import ZONE_KINDS
from server.core import audit
from server.core.policy import Action, Actor, authorize
from server.maps.importers import Candidate, Rejection, Repair, read_source
from server.maps.layers import check_layer_name

log = logging.getLogger(__name__)
ZONES = "zones"  # the one built-in layer a file may fill


@dataclass
class ImportReport:
    preview: bool
    layers: dict[str, dict[str, int]] = field(default_factory=dict)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    repaired: list[Repair] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        return self.created + self.updated + self.unchanged


def import_file(
    session: Session,
    actor: Actor,
    area_id: uuid.UUID,
    filename: str,
    data: bytes,
    *,
    layer: str | None = None,
    preview: bool = False,
    repair: bool = False,
    replace: bool = False,
) -> ImportReport:
    authorize(actor, Action.MAP_EDIT, area_id, "area")
    if layer is not None and layer != ZONES:
        check_layer_name(layer)
    source = read_source(data, filename, layer=layer, repair=repair)
    report = ImportReport(
        preview, rejected=source.rejected, repaired=source.repaired, notes=source.notes
    )
    for target in sorted({c.target_layer for c in source.candidates} - {ZONES}):
        check_layer_name(target)
    candidates = _keep_family(session, area_id, source.candidates, report)
    candidates = _zones_ready(candidates, report)
    candidates = _keep_inside(session, area_id, candidates, report)
    candidates = _keep_unique_ids(session, area_id, candidates, report)
    plan = _plan(session, area_id, candidates, report.notes)
    targets = sorted({c.target_layer for c in candidates} | ({layer} if layer else set()))
    gone = _missing(session, area_id, targets, candidates) if replace else []
    report.created, report.updated = len(plan["created"]), len(plan["updated"])
    report.unchanged, report.deleted = len(plan["unchanged"]), len(gone)
    per_layer: dict[str, Counter] = {}
    for action, rows in plan.items():
        for c in rows:
            per_layer.setdefault(c.target_layer, Counter())[action] += 1
    report.layers = {name: dict(counts) for name, counts in sorted(per_layer.items())}
    report.rejected.sort(key=lambda r: (r.source_layer, r.index))
    if preview:
        return report
    _insert(session, area_id, plan["created"])
    _update(session, plan["updated"])
    for table in ("map_features", "zones") if gone else ():
        session.execute(
            text(
                f"UPDATE {table} SET deleted_at = now(), updated_at = now(),"  # noqa: S608
                " version = version + 1 WHERE id = ANY(:ids)"
            ),
            {"ids": gone},
        )
    details = {
        "file": filename,
        "created": report.created,
        "updated": report.updated,
        "deleted": report.deleted,
        "rejected": len(report.rejected),
    }
    audit.record(session, actor, "map.import", "area", area_id, area_id=area_id, **details)
    if report.repaired:
        repairs = [f"{r.source_layer}#{r.index}: {r.detail}" for r in report.repaired]
        audit.record(
            session,
            actor,
            "map.import.repair",
            "area",
            area_id,
            area_id=area_id,
            file=filename,
            repairs=repairs,
        )
        log.info("map import %s into %s repaired %d geometries", filename, area_id, len(repairs))
    return report


def _reject(report: ImportReport, c: Candidate, reason: str, detail: str) -> None:
    point = c.geometry.representative_point()
    report.rejected.append(
        Rejection(c.source_layer, c.index, c.source_id, reason, detail, [point.x, point.y])
    )


def _keep_family(session, area_id, candidates: list[Candidate], report) -> list[Candidate]:
    """A layer holds one family of geometry (points, lines or polygons), as its style expects."""
    rows = session.execute(
        text(
            "SELECT layer, min(GeometryType(geom)) AS gtype FROM map_features"
            " WHERE area_id = :a AND deleted_at IS NULL GROUP BY layer"
        ),
        {"a": area_id},
    ).all()
    family_of = {
        "POINT": "point",
        "MULTIPOINT": "point",
        "LINESTRING": "line",
        "MULTILINESTRING": "line",
        "POLYGON": "polygon",
        "MULTIPOLYGON": "polygon",
    }
    families = {r.layer: family_of.get(r.gtype) for r in rows} | {ZONES: "polygon"}
    kept = []
    for c in candidates:
        family = families.setdefault(c.target_layer, c.family)
        if family != c.family:
            _reject(
                report,
                c,
                "wrong-type",
                f"layer {c.target_layer!r} holds {family}s; this is a {c.geometry.geom_type}",
            )
        else:
            kept.append(c)
    return kept


def _zones_ready(candidates: list[Candidate], report) -> list[Candidate]:
    """Zones need a name and a known kind (the `kind` field, else management); stored as
    MultiPolygons, which is what a Polygon is in the zones table."""
    kept = []
    for c in candidates:
        if c.target_layer != ZONES:
            kept.append(c)
            continue
        kind = c.properties.pop("kind", None) or "management"
        if kind not in ZONE_KINDS:
            _reject(
                report, c, "bad-kind", f"zone kind {kind!r} is not one of {', '.join(ZONE_KINDS)}"
            )
        elif not c.name:
            _reject(report, c, "missing-name", "a zone needs a name (a 'name' field)")
        else:
            if isinstance(c.geometry, Polygon):
                c.geometry = MultiPolygon([c.geometry])
            c.kind = kind
            kept.append(c)
    return kept


def _keep_inside(session, area_id, candidates: list[Candidate], report) -> list[Candidate]:
    if not candidates:
        return []
    outside = set(
        session.scalars(
            text(
                "SELECT u.i FROM areas a, unnest(CAST(:wkbs AS bytea[])) WITH ORDINALITY u(w, i)"
                " WHERE a.id = :a AND NOT ST_Intersects(a.boundary, ST_GeomFromWKB(u.w, 4326))"
            ),
            {"a": area_id, "wkbs": [shapely.to_wkb(c.geometry) for c in candidates]},
        )
    )
    for i in sorted(outside):
        _reject(
            report,
            candidates[i - 1],
            "outside-area",
            "the feature lies entirely outside the area's boundary (is the CRS right?)",
        )
    return [c for i, c in enumerate(candidates, 1) if i not in outside]


def _keep_unique_ids(session, area_id, candidates: list[Candidate], report) -> list[Candidate]:
    seen: set[uuid.UUID] = set()
    ids = [c.feature_id for c in candidates if c.feature_id]
    foreign = (
        set(
            session.scalars(
                text(
                    "SELECT id FROM map_features WHERE id = ANY(:ids) AND area_id <> :a"
                    " UNION ALL SELECT id FROM zones WHERE id = ANY(:ids) AND area_id <> :a"
                ),
                {"ids": ids, "a": area_id},
            )
        )
        if ids
        else set()
    )
    kept = []
    for c in candidates:
        if c.feature_id is None:
            kept.append(c)
        elif c.feature_id in seen:
            _reject(report, c, "duplicate-id", f"id {c.feature_id} appears twice in the file")
        elif c.feature_id in foreign:
            _reject(report, c, "id-in-use", f"id {c.feature_id} belongs to another area")
        else:
            seen.add(c.feature_id)
            kept.append(c)
    return kept


def _plan(session, area_id, candidates: list[Candidate], notes: list[str]) -> dict:
    ids = [c.feature_id for c in candidates if c.feature_id]
    existing = (
        {
            r.id: r
            for r in session.execute(
                text(
                    "SELECT id, layer, NULL AS kind, name, properties, ST_AsBinary(geom) AS wkb,"
                    " deleted_at IS NOT NULL AS deleted FROM map_features"
                    " WHERE id = ANY(:ids) AND area_id = :a UNION ALL"
                    " SELECT id, 'zones', kind, name, properties, ST_AsBinary(geom),"
                    " deleted_at IS NOT NULL FROM zones WHERE id = ANY(:ids) AND area_id = :a"
                ),
                {"ids": ids, "a": area_id},
            )
        }
        if ids
        else {}
    )
    plan: dict[str, list[Candidate]] = {"created": [], "updated": [], "unchanged": []}
    copied = 0
    for c in candidates:
        row = existing.get(c.feature_id)
        if row is not None and row.layer != c.target_layer:
            # a copy into another layer (an export of `road` imported as `tracks`): new ids,
            # so the originals stay where they are
            c.feature_id, row, copied = None, None, copied + 1
        if row is None:
            plan["created"].append(c)
        elif (
            not row.deleted
            and row.layer == c.target_layer
            and row.kind == c.kind
            and row.name == c.name
            and row.properties == c.properties
            and shapely.equals_exact(shapely.from_wkb(bytes(row.wkb)), c.geometry, 0)
        ):
            plan["unchanged"].append(c)
        else:
            plan["updated"].append(c)
    if copied:
        notes.append(f"{copied} features have ids of another layer: imported as new features")
    return plan


def _missing(session, area_id, layers: list[str], candidates: list[Candidate]) -> list[uuid.UUID]:
    keep = [c.feature_id for c in candidates if c.feature_id]
    return list(
        session.scalars(
            text(
                "SELECT id FROM map_features WHERE area_id = :a AND layer = ANY(:layers)"
                " AND deleted_at IS NULL AND NOT (id = ANY(:keep)) UNION ALL"
                " SELECT id FROM zones WHERE area_id = :a AND 'zones' = ANY(:layers)"
                " AND deleted_at IS NULL AND NOT (id = ANY(:keep))"
            ),
            {"a": area_id, "layers": layers, "keep": keep},
        )
    )


def _columns(rows: list[Candidate]) -> dict:
    return {
        "ids": [c.feature_id or uuid.uuid4() for c in rows],
        "layers": [c.kind if c.target_layer == ZONES else c.target_layer for c in rows],
        "names": [c.name for c in rows],
        "wkbs": [shapely.to_wkb(c.geometry) for c in rows],
        "props": [json.dumps(c.properties) for c in rows],
    }


_UNNEST = (
    "unnest(CAST(:ids AS uuid[]), CAST(:layers AS text[]), CAST(:names AS text[]),"
    " CAST(:wkbs AS bytea[]), CAST(:props AS text[])) AS u(id, layer, name, wkb, props)"
)


def _split(rows: list[Candidate]) -> list[tuple[str, str, list[Candidate]]]:
    """(table, the column the `layer` array fills, rows): zones carry their kind there."""
    zones = [c for c in rows if c.target_layer == ZONES]
    features = [c for c in rows if c.target_layer != ZONES]
    return [
        (t, col, r)
        for t, col, r in (("map_features", "layer", features), ("zones", "kind", zones))
        if r
    ]


def _insert(session: Session, area_id: uuid.UUID, rows: list[Candidate]) -> None:
    for table, column, part in _split(rows):
        session.execute(
            text(
                f"INSERT INTO {table} (id, area_id, {column}, name, geom, properties, version)"  # noqa: S608
                " SELECT u.id, :a, u.layer, u.name, ST_GeomFromWKB(u.wkb, 4326),"
                f" CAST(u.props AS jsonb), 1 FROM {_UNNEST}"
            ),
            _columns(part) | {"a": area_id},
        )


def _update(session: Session, rows: list[Candidate]) -> None:
    for table, column, part in _split(rows):
        session.execute(
            text(
                f"UPDATE {table} f SET {column} = u.layer, name = u.name,"  # noqa: S608
                " geom = ST_GeomFromWKB(u.wkb, 4326), properties = CAST(u.props AS jsonb),"
                " version = f.version + 1, updated_at = now(), deleted_at = NULL"
                f" FROM {_UNNEST} WHERE f.id = u.id"
            ),
            _columns(part),
        )
