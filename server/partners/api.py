"""HTTP endpoints for area admins: partner keys, the partner request log, geoprivacy rules."""

from __future__ import annotations

import uuid

from schemas.partners import (
    GeoprivacyRules,
    IssuedKeyOut,
    KeyIssue,
    KeyOut,
    RequestLogQuery,
    RequestOut,
)
from server.areas.service import area_id_of
from server.core.api import API_PREFIX, Blueprint
from server.core.web import commit, current_actor, db
from server.partners import geoprivacy, keys

blp = Blueprint(
    "partners", __name__, url_prefix=API_PREFIX, description="Partner keys and geoprivacy"
)


@blp.get("/areas/<area>/partner-keys")
@blp.response(200, KeyOut(many=True))
def list_keys(area):
    """Keys that reach this area (area admins); the keys themselves are never shown again."""
    return keys.list_keys(db(), current_actor(), area_id_of(db(), current_actor(), area))


@blp.post("/areas/<area>/partner-keys")
@blp.arguments(KeyIssue)
@blp.response(201, IssuedKeyOut)
def issue_key(body, area):
    """Issue a key to a partner organisation; the answer holds the key, shown only this once."""
    areas = body.pop("areas") or [area]
    area_id_of(db(), current_actor(), area)
    return commit(keys.issue_key(db(), current_actor(), areas=areas, **body))


@blp.delete("/partner-keys/<uuid:key_id>")
@blp.response(200, KeyOut)
def revoke_key(key_id: uuid.UUID):
    """Revoke a key: its next request is refused."""
    return commit(keys.revoke_key(db(), current_actor(), key_id))


@blp.get("/areas/<area>/partner-requests")
@blp.arguments(RequestLogQuery, location="query")
@blp.response(200, RequestOut(many=True))
def request_log(args, area):
    """Every request made with the keys that reach this area, newest first."""
    area_id = area_id_of(db(), current_actor(), area)
    return keys.request_log(
        db(),
        current_actor(),
        area_id,
        key_id=args["key"],
        before_id=args["before"],
        limit=args["limit"],
    )


@blp.get("/areas/<area>/geoprivacy")
@blp.response(200, GeoprivacyRules)
def get_rules(area):
    """What partners see of this area's reports, per category and species."""
    area_id = area_id_of(db(), current_actor(), area)
    return {"rules": geoprivacy.rules(db(), current_actor(), area_id)}


@blp.put("/areas/<area>/geoprivacy")
@blp.arguments(GeoprivacyRules)
@blp.response(200, GeoprivacyRules)
def set_rules(body, area):
    """Replace the area's geoprivacy rules (area admins)."""
    area_id = area_id_of(db(), current_actor(), area)
    return commit({"rules": geoprivacy.set_rules(db(), current_actor(), area_id, body["rules"])})
