"""HTTP endpoints of accounts: tokens, the caller's profile, users and roles in an area."""

from __future__ import annotations

from flask import current_app

from schemas.accounts import MemberOut, RoleChange, TokenOut, TokenRequest, UserCreate, UserOut
from schemas.common import Problem
from server.accounts import service
from server.areas.web import in_area
from server.core.api import API_PREFIX, Blueprint
from server.core.errors import Unauthenticated
from server.core.web import attempts, bearer_token, commit, current_actor, db, source_address

blp = Blueprint("accounts", __name__, url_prefix=API_PREFIX, description="Sign-in, users and roles")


@blp.post("/auth/token")
@blp.arguments(TokenRequest)
@blp.response(201, TokenOut)
@blp.alt_response(
    429,
    schema=Problem,
    content_type="application/problem+json",
    description="too many failed attempts from here: wait the Retry-After header's seconds",
    headers={"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}},
)
def issue_token(body):
    """Sign in with a username and password; answers a bearer token for the API. Failed
    attempts are counted per account and address and per address: past a few, 429 with
    Retry-After, even for the right password, for a while that grows (a minute, ten, an hour)."""
    ttl = current_app.extensions["rangersync"].config.token_ttl_hours
    with sign_in_attempt(body["username"]):
        return commit(service.sign_in(db(), body["username"], body["password"], ttl))


def sign_in_attempt(username: str):
    """The throttle around one sign-in (the API's and the dashboard's form)."""
    source = source_address()
    account = username.strip().lower()[:200]
    return attempts("sign-in").attempt(
        {"account": (account, source), "source": (source,)},
        failures=(Unauthenticated,),
        clear_on_success="account",
    )


@blp.delete("/auth/token")
@blp.response(204)
def revoke_token():
    """Sign out: the bearer token of this request stops working at once."""
    current_actor()
    commit(service.sign_out(db(), bearer_token() or ""))


@blp.get("/me")
@blp.response(200, UserOut)
def me():
    """The signed-in user and their role in each area."""
    return service.profile(db(), current_actor())


@blp.get("/areas/<area>/members")
@blp.response(200, MemberOut(many=True))
@in_area
def list_members(area_id):
    """People with a role in the area (admins and managers)."""
    return service.members(db(), current_actor(), area_id)


@blp.post("/areas/<area>/members")
@blp.arguments(UserCreate)
@blp.response(201, UserOut)
@in_area
def create_member(body, area_id):
    """Create a user with a role in this area (area admins)."""
    user = service.create_user(db(), current_actor(), area_id=area_id, **body)
    return commit(service.profile_of(db(), user))


@blp.put("/areas/<area>/members/<username>")
@blp.arguments(RoleChange)
@blp.response(200, MemberOut)
@in_area
def set_role(body, area_id, username):
    """Give an existing user a role in this area, or change it (area admins)."""
    return commit(service.set_role(db(), current_actor(), area_id, username, body["role"]))


@blp.post("/users/<username>/disable")
@blp.response(200, UserOut)
def disable(username):
    """Disable a user: their tokens and devices stop working on the next request."""
    user = service.disable_user(db(), current_actor(), username)
    return commit(service.profile_of(db(), user))
