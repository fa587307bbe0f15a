"""Which areas a map request covers: those where the caller holds the right, or the one given."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.areas.models import Area
from server.core.errors import Forbidden
from server.core.policy import Action, Actor, authorize


def areas_in_scope(
    session: Session, actor: Actor, action: Action, area_id: uuid.UUID | None = None
) -> list[uuid.UUID]:
    """Sorted area ids. Giving an area the caller has no role in is a 404, one whose role lacks
    the right a 403; without one, every area with the right, and 403 if there is none."""
    if area_id is not None:
        authorize(actor, action, area_id, "area")
        return [area_id]
    visible = actor.area_ids_for(action)
    if visible is None:
        return sorted(session.scalars(select(Area.id)))
    if not visible:
        raise Forbidden(f"none of your roles allows {action.value}")
    return sorted(visible)
