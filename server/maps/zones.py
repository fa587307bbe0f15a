"""Managing zones (management, intensive protection, danger…): create, edit on a version, delete.

Like map features: every change bumps `version` and `change_xid`, a deletion is soft and reaches
devices as a tombstone, and an edit made on an older version is a 409.
"""

from __future__ import annotations

import uuid

from geoalchemy2.shape import from_shape
from shapely.geometry import MultiPolygon, Polygon
from sqlalchemy import func
from sqlalchemy.orm import Session

from server.areas.models import ZONE_KINDS, Zone
from server.core import audit
from server.core.errors import Conflict, Invalid, NotFound
from server.core.policy import Action, Actor, authorize


def _multi(geometry: Polygon | MultiPolygon) -> MultiPolygon:
    return MultiPolygon([geometry]) if isinstance(geometry, Polygon) else geometry


def _check_kind(kind: str) -> str:
    if kind not in ZONE_KINDS:
        raise Invalid(
            f"unknown zone kind {kind!r}; one of {', '.join(ZONE_KINDS)}",
            errors={"kind": ["unknown"]},
        )
    return kind


def _zone(session: Session, actor: Actor, area_id: uuid.UUID, zone_id: uuid.UUID) -> Zone:
    authorize(actor, Action.MAP_EDIT, area_id, "area")
    zone = session.get(Zone, zone_id, with_for_update=True)
    if zone is None or zone.area_id != area_id or zone.deleted_at is not None:
        raise NotFound("no such zone")
    return zone


def _on_version(zone: Zone, version: int) -> None:
    if zone.version != version:
        raise Conflict(
            f"the zone is at version {zone.version}, not {version}: reload it",
            extra={"current_version": zone.version},
        )


def create_zone(
    session: Session,
    actor: Actor,
    area_id: uuid.UUID,
    *,
    name: str,
    kind: str,
    geometry: Polygon | MultiPolygon,
    properties: dict | None = None,
) -> uuid.UUID:
    authorize(actor, Action.MAP_EDIT, area_id, "area")
    zone = Zone(
        area_id=area_id,
        name=name,
        kind=_check_kind(kind),
        geom=from_shape(_multi(geometry), srid=4326),
        properties=properties or {},
    )
    session.add(zone)
    session.flush()
    audit.record(session, actor, "zone.create", "zone", zone.id, area_id=area_id, name=name)
    return zone.id


def update_zone(
    session: Session,
    actor: Actor,
    area_id: uuid.UUID,
    zone_id: uuid.UUID,
    *,
    version: int,
    name: str | None = None,
    kind: str | None = None,
    geometry: Polygon | MultiPolygon | None = None,
    properties: dict | None = None,
) -> uuid.UUID:
    zone = _zone(session, actor, area_id, zone_id)
    _on_version(zone, version)
    if name is not None:
        zone.name = name
    if kind is not None:
        zone.kind = _check_kind(kind)
    if geometry is not None:
        zone.geom = from_shape(_multi(geometry), srid=4326)
    if properties is not None:
        zone.properties = properties
    zone.version += 1
    zone.updated_at = func.now()
    session.flush()
    audit.record(
        session, actor, "zone.update", "zone", zone.id, area_id=zone.area_id, version=zone.version
    )
    return zone.id


def delete_zone(
    session: Session, actor: Actor, area_id: uuid.UUID, zone_id: uuid.UUID, *, version: int
) -> None:
    zone = _zone(session, actor, area_id, zone_id)
    _on_version(zone, version)
    zone.version += 1
    zone.deleted_at = func.now()
    zone.updated_at = func.now()
    session.flush()
    audit.record(session, actor, "zone.delete", "zone", zone.id, area_id=zone.area_id)
