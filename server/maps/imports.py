"""Importing a map file into an area's layers: a preview of what will change, then the change,
set-based, versioned and audited like any other edit.

Features are matched by id when the file carries RangerSync's own (an export re-imported);
features without one by a key field the caller names, else the key remembered from the layer's
last import of the same source, else by content (server.maps.identity). A match with other
content is an update, a match with the same content unchanged, anything else new. A feature
whose identity cannot be told is refused with its reason, never guessed. With `replace`,
features of the target layers that the file no longer holds are deleted, except those a refused
feature may be. The database decides what lies outside the area; the file reader decides
everything else.
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
from server.maps import identity, import_keys
from server.maps.identity import Stored
from server.maps.import_keys import Identity
from server.maps.importers import Candidate, Rejection, Repair, SourceRead, read_source
from server.maps.layers import check_layer_name

log = logging.getLogger(__name__)
ZONES = "zones"  # the one built-in layer a file may fill


@dataclass
class ImportReport:
    preview: bool
    layers: dict[str, dict[str, int]] = field(default_factory=dict)
    identity: dict[str, Identity] = field(default_factory=dict)
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
    key: str | None = None,
) -> ImportReport:
    authorize(actor, Action.MAP_EDIT, area_id, "area")
    if layer is not None and layer != ZONES:
        check_layer_name(layer)
    source = read_source(data, filename, layer=layer, repair=repair)
    key_fields = import_keys.key_fields(source, key) if key else {}
    report = ImportReport(
        preview, rejected=source.rejected, repaired=source.repaired, notes=source.notes
    )
    for target in sorted({c.target_layer for c in source.candidates} - {ZONES}):
        check_layer_name(target)
    candidates = _keep_family(session, area_id, source.candidates, report)
    candidates = _zones_ready(candidates, report)
    candidates = _keep_inside(session, area_id, candidates, report)
    candidates = _keep_unique_ids(session, area_id, candidates, report)
    targets = sorted({c.target_layer for c in candidates} | ({layer} if layer else set()))
    if not preview:
        _one_import_at_a_time(session, area_id, targets)
    plan, protected, remember = _plan(session, area_id, candidates, report, key_fields, source)
    gone = _missing(session, area_id, targets, plan, protected) if replace else []
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
    import_keys.remember(session, area_id, remember, filename)
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
        "unchanged": report.unchanged,
        "deleted": report.deleted,
        "rejected": len(report.rejected),
        "identity": {name: str(how) for name, how in report.identity.items()},
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


def _one_import_at_a_time(session, area_id, layers: list[str]) -> None:
    """Imports into a layer take turns (locks taken in name order, so two imports of several
    layers cannot deadlock): a second import of the same file (a double click) waits for the
    first to commit, then finds its features instead of creating them again."""
    for name in layers:
        session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
            {"key": f"map-import:{area_id}:{name}"},
        )


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


def _plan(
    session,
    area_id,
    candidates: list[Candidate],
    report: ImportReport,
    key_fields: dict[str, str],
    source: SourceRead,
) -> tuple[dict[str, list[Candidate]], set[uuid.UUID], list[tuple[str, str, str]]]:
    """(created/updated/unchanged, the stored features `replace` must keep although no file
    feature matched them, the (layer, source, key) to remember once the import is applied)."""
    plan: dict[str, list[Candidate]] = {"created": [], "updated": [], "unchanged": []}
    idless = _plan_by_id(session, area_id, candidates, plan, report.notes)
    protected: set[uuid.UUID] = set()
    remember: list[tuple[str, str, str]] = []
    by_layer: dict[str, list[Candidate]] = {c.target_layer: [] for c in candidates}
    for c in idless:
        by_layer[c.target_layer].append(c)
    remembered = import_keys.remembered(session, area_id, sorted(by_layer))
    matched_by_id = [c.feature_id for rows in plan.values() for c in rows]
    stored = _stored(session, area_id, sorted(by_layer), matched_by_id)
    for target, rows in by_layer.items():
        if not rows:
            report.identity[target] = Identity("id")
            continue
        how = import_keys.choose(target, rows, key_fields, remembered, source, report.notes)
        report.identity[target] = how
        if how.method == "key" and how.key is not None:
            matching = identity.match_by_key(rows, stored.get(target, []), how.key)
        else:
            matching = identity.match_by_content(rows, stored.get(target, []))
        for c, s in matching.pairs:
            c.feature_id = s.id
            plan["unchanged" if identity.same_content(c, s) else "updated"].append(c)
        plan["created"].extend(matching.new)
        for r in matching.refused:
            _reject(report, r.candidate, r.reason, r.detail)
        protected |= matching.protected
        key = how.key if how.method == "key" else None
        if key is not None and not any(r.reason == "duplicate-key" for r in matching.refused):
            remember.extend((target, s, key) for s in sorted({c.source_layer for c in rows}))
    return plan, protected, remember


def _plan_by_id(session, area_id, candidates, plan, notes: list[str]) -> list[Candidate]:
    """Plan the features that carry a RangerSync id of this layer; return the others."""
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
    idless: list[Candidate] = []
    copied = 0
    for c in candidates:
        row = existing.get(c.feature_id) if c.feature_id else None
        if row is not None and row.layer != c.target_layer:
            # a copy into another layer (an export of `road` imported as `tracks`): the
            # originals stay where they are, and the copies are matched within the target
            c.feature_id, row, copied = None, None, copied + 1
        if c.feature_id is None:
            idless.append(c)
        elif row is None:
            plan["created"].append(c)
        elif not row.deleted and identity.same_content(c, _as_stored(row)):
            plan["unchanged"].append(c)
        else:
            plan["updated"].append(c)
    if copied:
        notes.append(
            f"{copied} features have ids of another layer: matched in the target layer as"
            " features without ids"
        )
    return idless


def _as_stored(row) -> Stored:
    return Stored(
        row.id, row.layer, row.kind, row.name, row.properties, shapely.from_wkb(bytes(row.wkb))
    )


def _stored(session, area_id, layers: list[str], exclude: list) -> dict[str, list[Stored]]:
    """The live features of the target layers, but those already matched by id."""
    if not layers:
        return {}
    rows = session.execute(
        text(
            "SELECT id, layer, NULL AS kind, name, properties, ST_AsBinary(geom) AS wkb"
            " FROM map_features WHERE area_id = :a AND layer = ANY(:layers)"
            " AND deleted_at IS NULL AND NOT (id = ANY(:exclude)) UNION ALL"
            " SELECT id, 'zones', kind, name, properties, ST_AsBinary(geom) FROM zones"
            " WHERE area_id = :a AND 'zones' = ANY(:layers) AND deleted_at IS NULL"
            " AND NOT (id = ANY(:exclude)) ORDER BY 1"
        ),
        {"a": area_id, "layers": layers, "exclude": exclude},
    ).all()
    stored: dict[str, list[Stored]] = {}
    for row in rows:
        stored.setdefault(row.layer, []).append(_as_stored(row))
    return stored


def _missing(session, area_id, layers: list[str], plan: dict, protected: set) -> list[uuid.UUID]:
    keep = [c.feature_id for rows in plan.values() for c in rows if c.feature_id]
    keep += list(protected)
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
