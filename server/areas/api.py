"""HTTP endpoints of protected areas."""

from __future__ import annotations

from schemas.areas import AreaCreate, AreaEdit, AreaOut
from server.areas import service
from server.core.api import API_PREFIX, Blueprint
from server.core.web import commit, current_actor, db

blp = Blueprint("areas", __name__, url_prefix=API_PREFIX, description="Protected areas")


@blp.get("/areas")
@blp.response(200, AreaOut(many=True))
def list_areas():
    """The areas the caller has a role in, with that role."""
    return service.list_areas(db(), current_actor())


@blp.post("/areas")
@blp.arguments(AreaCreate)
@blp.response(201, AreaOut)
def create_area(body):
    """Create a protected area (superusers)."""
    return commit(service.create_area(db(), current_actor(), **body))


@blp.get("/areas/<area>")
@blp.response(200, AreaOut)
def get_area(area):
    """One area, by id or slug."""
    return service.get_area(db(), current_actor(), area)


@blp.patch("/areas/<area>")
@blp.arguments(AreaEdit)
@blp.response(200, AreaOut)
def edit_area(body, area):
    """Rename an area, redraw its boundary or change its time zone (the area's admins)."""
    return commit(service.update_area(db(), current_actor(), area, **body))
