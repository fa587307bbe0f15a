"""What area management does: list and read the areas a caller may see, create areas."""

from __future__ import annotations

import uuid
import zoneinfo
from dataclasses import dataclass, replace
from datetime import datetime

from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.areas.models import Area
from server.core import audit
from server.core.errors import AlreadyExists, Forbidden, Invalid, NotFound
from server.core.extensions import AREA_DETAILS
from server.core.policy import Action, Actor, authorize


@dataclass(frozen=True)
class AreaView:
    id: uuid.UUID
    slug: str
    name: str
    timezone: str
    role: str | None
    bbox: list[float]
    boundary: BaseGeometry
    created_at: datetime
    # Added by maps through server.core.extensions: the manifest of the current offline package.
    map_package: dict | None = None


def _view(area: Area, actor: Actor) -> AreaView:
    boundary = to_shape(area.boundary)
    return AreaView(
        id=area.id,
        slug=area.slug,
        name=area.name,
        timezone=area.timezone,
        role=actor.role_in(area.id) or ("admin" if actor.is_superuser else None),
        bbox=[round(v, 6) for v in boundary.bounds],
        boundary=boundary,
        created_at=area.created_at,
    )


def _lookup(session: Session, key: str | uuid.UUID) -> Area | None:
    if isinstance(key, uuid.UUID):
        return session.get(Area, key)
    try:
        return session.get(Area, uuid.UUID(key))
    except ValueError:
        return session.scalar(select(Area).where(Area.slug == key))


def area_id_of(session: Session, actor: Actor, key: str | uuid.UUID) -> uuid.UUID:
    """The id of an area named by id or slug, if the actor may see it; 404 otherwise."""
    area = _lookup(session, key)
    if area is None:
        raise NotFound(f"no area {str(key)!r}")
    authorize(actor, Action.AREA_VIEW, area.id, "area")
    return area.id


def list_areas(session: Session, actor: Actor) -> list[AreaView]:
    query = select(Area).order_by(Area.slug)
    visible = actor.area_ids_for(Action.AREA_VIEW)
    if visible is not None:
        query = query.where(Area.id.in_(visible))
    return [_view(area, actor) for area in session.scalars(query)]


def get_area(session: Session, actor: Actor, key: str | uuid.UUID) -> AreaView:
    """The area with the details capabilities above registered (server.core.extensions)."""
    area = session.get(Area, area_id_of(session, actor, key))
    details = {name: detail(session, area.id, area.slug) for name, detail in AREA_DETAILS.items()}
    return replace(_view(area, actor), **details)


def create_area(
    session: Session,
    actor: Actor,
    *,
    slug: str,
    name: str,
    boundary: Polygon | MultiPolygon,
    timezone: str = "UTC",
) -> AreaView:
    if not actor.is_superuser:
        raise Forbidden("only a superuser may create protected areas")
    if timezone not in zoneinfo.available_timezones():
        raise Invalid(f"unknown time zone {timezone!r}", errors={"timezone": ["unknown IANA zone"]})
    if session.scalar(select(Area.id).where(Area.slug == slug)) is not None:
        raise AlreadyExists(f"an area with slug {slug!r} exists", errors={"slug": ["taken"]})
    if isinstance(boundary, Polygon):
        boundary = MultiPolygon([boundary])
    area = Area(slug=slug, name=name, boundary=from_shape(boundary, srid=4326), timezone=timezone)
    session.add(area)
    session.flush()
    audit.record(session, actor, "area.create", "area", area.id, area_id=area.id, slug=slug)
    session.refresh(area)
    return _view(area, actor)


def area_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Area))


def update_area(
    session: Session,
    actor: Actor,
    key: str | uuid.UUID,
    *,
    name: str | None = None,
    boundary: Polygon | MultiPolygon | None = None,
    timezone: str | None = None,
) -> AreaView:
    """Rename an area, redraw its boundary or change its time zone (the area's admins)."""
    area = session.get(Area, area_id_of(session, actor, key), with_for_update=True)
    authorize(actor, Action.AREA_EDIT, area.id, "area")
    if timezone is not None and timezone not in zoneinfo.available_timezones():
        raise Invalid(f"unknown time zone {timezone!r}", errors={"timezone": ["unknown IANA zone"]})
    if name is not None:
        area.name = name
    if timezone is not None:
        area.timezone = timezone
    if boundary is not None:
        if isinstance(boundary, Polygon):
            boundary = MultiPolygon([boundary])
        area.boundary = from_shape(boundary, srid=4326)
    session.flush()
    audit.record(
        session,
        actor,
        "area.update",
        "area",
        area.id,
        area_id=area.id,
        fields=sorted(
            k
            for k, v in {"name": name, "boundary": boundary, "timezone": timezone}.items()
            if v is not None
        ),
    )
    session.refresh(area)
    return get_area(session, actor, area.id)
