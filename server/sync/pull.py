"""The pull: every change in a device's scope since its cursor, in pages, deletions included.

Scope: its area (boundary), the report categories, its area's zones, map features and active
safety alerts, its own reports as managers changed them, and its area's offline map package.
Deleted, retired, cancelled, superseded or expired objects come as tombstones
({"deleted": true}). The pull runs in one REPEATABLE READ transaction, so a page is one
consistent snapshot.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from server.core.errors import Forbidden
from server.core.policy import Action, Actor, authorize
from server.devices.models import Device
from server.safety import audience as alert_audience
from server.sync.cursor import Cursor, expired
from sync.protocol import PROTOCOL_VERSION, PULL_PAGE_SIZE

# Each kind: the rows in scope with `deleted` saying whether the device should drop it.
# :area and :device are bound; the change filter and paging are added around it.
KINDS: dict[str, str] = {
    "area": """
        SELECT id, change_xid, false AS deleted, json_build_object(
            'slug', slug, 'name', name, 'timezone', timezone,
            'boundary', ST_AsGeoJSON(boundary)::json) AS data
        FROM areas WHERE id = :area""",
    "category": """
        SELECT c.id, c.change_xid, c.retired_at IS NOT NULL AS deleted, json_build_object(
            'key', c.key, 'label', c.label, 'parent', p.key, 'geometry_kind', c.geometry_kind,
            'attribute_schema', c.attribute_schema, 'hostile', c.hostile) AS data
        FROM report_categories c LEFT JOIN report_categories p ON p.id = c.parent_id""",
    "zone": """
        SELECT id, change_xid, deleted_at IS NOT NULL AS deleted, json_build_object(
            'name', name, 'kind', kind, 'version', version, 'properties', properties,
            'geometry', ST_AsGeoJSON(geom)::json) AS data
        FROM zones WHERE area_id = :area""",
    "map_feature": """
        SELECT id, change_xid, deleted_at IS NOT NULL AS deleted, json_build_object(
            'layer', layer, 'name', name, 'version', version, 'properties', properties,
            'geometry', ST_AsGeoJSON(geom)::json) AS data
        FROM map_features WHERE area_id = :area""",
    # Alerts that concern this device (server.safety.audience): the whole area's, its teams',
    # and those it was matched to by position; a device matched later sees the alert's
    # change_xid move (audience_version), so an incremental pull brings it then.
    "alert": f"""
        SELECT a.id, a.change_xid,
               a.cancelled_at IS NOT NULL
               OR (a.valid_until IS NOT NULL AND a.valid_until <= now())
               OR NOT {alert_audience.concerns(":device", ":user")} AS deleted,
               json_build_object(
                   'severity', a.severity, 'message', a.message, 'source', a.source,
                   'valid_from', a.valid_from, 'valid_until', a.valid_until,
                   'geometry', ST_AsGeoJSON(a.geom)::json,
                   'kind', a.kind, 'radius_m', a.radius_m) AS data
        FROM safety_alerts a WHERE a.area_id = :area""",  # noqa: S608
    "report": """
        SELECT r.id, r.change_xid, false AS deleted, json_build_object(
            'version', r.version, 'status', r.status, 'priority', r.priority, 'notes', r.notes,
            'attributes', r.attributes, 'category', c.key) AS data
        FROM reports r JOIN report_categories c ON c.id = r.category_id
        WHERE r.device_id = :device""",
    "tombstone": """
        SELECT t.object_id AS id, t.change_xid, true AS deleted,
               json_build_object('kind', t.kind) AS data
        FROM tombstones t
        WHERE (t.area_id = :area OR t.area_id IS NULL)
          AND (t.device_id IS NULL OR t.device_id = :device)""",
    # Last, so that the kind indexes of cursors issued before it existed stay valid. A new
    # build supersedes the previous package, which devices then get as deleted.
    "map_package": """
        SELECT p.id, p.change_xid, p.superseded_at IS NOT NULL AS deleted, json_build_object(
            'version', p.version, 'built_at', p.built_at, 'bounds', p.bounds,
            'min_zoom', p.min_zoom, 'max_zoom', p.max_zoom, 'tile_count', p.tile_count,
            'tiles_sha256', p.tiles_sha256, 'files', p.files,
            'base_url', '/api/v1/areas/' || p.area_id || '/mappack/' || p.version || '/') AS data
        FROM map_packages p WHERE p.area_id = :area""",
}
KIND_NAMES = list(KINDS)


@dataclass(frozen=True)
class Change:
    kind: str
    id: uuid.UUID
    deleted: bool
    data: dict[str, Any] | None


@dataclass(frozen=True)
class PullPage:
    changes: list[Change]
    cursor: Cursor
    more: bool
    full_resync: bool
    unchanged: bool = False
    protocol: int = PROTOCOL_VERSION
    extra: dict = field(default_factory=dict)


def _page_query(kind: str, first_round: bool) -> str:
    conditions = ["(CAST(:after AS uuid) IS NULL OR s.id > CAST(:after AS uuid))"]
    if first_round:
        conditions.append("NOT s.deleted")  # a device starting afresh needs no tombstones
    else:
        conditions.append(
            "s.change_xid >= pg_snapshot_xmin(CAST(:seen AS pg_snapshot))"
            " AND NOT pg_visible_in_snapshot(s.change_xid, CAST(:seen AS pg_snapshot))"
        )
    conditions.append("pg_visible_in_snapshot(s.change_xid, CAST(:upto AS pg_snapshot))")
    # Every fragment is a constant of this module; the values are bound parameters.
    return (
        f"SELECT s.id, s.deleted, s.data FROM ({KINDS[kind]}) s"  # noqa: S608
        f" WHERE {' AND '.join(conditions)} ORDER BY s.id LIMIT :limit"
    )


def _older_than_purged_tombstones(session: Session, seen: str) -> bool:
    return session.execute(
        text(
            "SELECT pg_snapshot_xmax(CAST(:seen AS pg_snapshot)) <= purged_through"
            " FROM tombstone_horizon"
        ),
        {"seen": seen},
    ).scalar_one()


def purge_tombstones(session: Session, older_than_days: int) -> int:
    """Forget deletions older than the retention; cursors from before them get 410 (resync)."""
    return session.execute(
        text(
            """
            WITH gone AS (
                DELETE FROM tombstones WHERE deleted_at < now() - make_interval(days => :days)
                RETURNING change_xid
            ), horizon AS (
                UPDATE tombstone_horizon SET purged_through = greatest(
                    purged_through, (SELECT max(change_xid) FROM gone))
                WHERE EXISTS (SELECT 1 FROM gone)
            )
            SELECT count(*) FROM gone
            """
        ),
        {"days": older_than_days},
    ).scalar_one()


def pull(
    session: Session, actor: Actor, cursor: Cursor | None, limit: int = PULL_PAGE_SIZE
) -> PullPage:
    """One page. The caller runs it in a REPEATABLE READ, read-only transaction."""
    if actor.kind != "device":
        raise Forbidden("only an enrolled device pulls; managers use the area endpoints")
    device = session.get(Device, actor.id)
    authorize(actor, Action.SYNC, device.area_id, "area")
    incoming = cursor
    if cursor is None:
        cursor = Cursor(device=str(device.id), seen=None)
    snapshot = session.execute(text("SELECT pg_current_snapshot()::text")).scalar_one()
    if cursor.seen is not None and _older_than_purged_tombstones(session, cursor.seen):
        raise expired()
    if cursor.upto is None:  # a new round: everything committed up to now
        cursor = replace(cursor, upto=snapshot, kind=0, after=None)
    params = {"area": device.area_id, "device": device.id, "user": device.user_id}
    params |= {"seen": cursor.seen, "upto": cursor.upto}
    changes: list[Change] = []
    kind_index, after = cursor.kind, cursor.after
    while kind_index < len(KIND_NAMES) and len(changes) < limit:
        kind = KIND_NAMES[kind_index]
        rows = session.execute(
            text(_page_query(kind, cursor.seen is None)),
            params | {"after": after, "limit": limit - len(changes)},
        ).all()
        changes += [
            Change(
                row.data["kind"] if kind == "tombstone" else kind,
                row.id,
                row.deleted,
                None if row.deleted else row.data,
            )
            for row in rows
        ]
        if len(changes) >= limit:
            after = str(rows[-1].id)
            break
        kind_index, after = kind_index + 1, None
    full_resync = cursor.seen is None
    if kind_index >= len(KIND_NAMES) or (len(changes) < limit):
        if not changes and incoming is not None and incoming.upto is None:
            # Nothing new: the same cursor again, so that its ETag lets the next ask be a 304.
            return PullPage([], incoming, more=False, full_resync=False, unchanged=True)
        # The round is complete: next time, everything since this round's snapshot.
        done = Cursor(device=cursor.device, seen=cursor.upto)
        return PullPage(changes, done, more=False, full_resync=full_resync)
    return PullPage(
        changes, replace(cursor, kind=kind_index, after=after), more=True, full_resync=full_resync
    )
