"""Which areas a map request covers: those where the caller holds the right, or the one named."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.areas.models import Area
from server.areas.service import area_id_of
from server.core.errors import Forbidden
from server.core.policy import Action, Actor, authorize


def areas_in_scope(
    session: Session, actor: Actor, action: Action, area: str | None = None
) -> list[uuid.UUID]:
    """Sorted area ids. Naming an area the caller has no role in is a 404, one whose role lacks
    the right a 403; without a name, every area with the right, and 403 if there is none."""
    if area is not None:
        area_id = area_id_of(session, actor, area)
        authorize(actor, action, area_id, "area")
        return [area_id]
    visible = actor.area_ids_for(action)
    if visible is None:
        return sorted(session.scalars(select(Area.id)))
    if not visible:
        raise Forbidden(f"none of your roles allows {action.value}")
    return sorted(visible)
