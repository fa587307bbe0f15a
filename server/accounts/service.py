"""What accounts do: create users, sign in, issue and check bearer tokens, manage roles."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.accounts import passwords
from server.accounts.models import ApiToken, Membership, User
from server.areas.models import Area
from server.core import audit, tokens
from server.core.db import utcnow
from server.core.errors import AlreadyExists, Invalid, NotFound, TokenRevoked, Unauthenticated
from server.core.policy import SYSTEM, Action, Actor, authorize


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_at: datetime


def roles_of(session: Session, user_id: uuid.UUID) -> dict[uuid.UUID, str]:
    rows = session.execute(
        select(Membership.area_id, Membership.role).where(Membership.user_id == user_id)
    )
    return {area_id: role for area_id, role in rows}


def actor_for(session: Session, user: User, kind: str = "user", actor_id=None) -> Actor:
    return Actor(
        kind=kind,
        id=actor_id or user.id,
        roles=roles_of(session, user.id),
        is_superuser=user.is_superuser,
        user_id=user.id,
    )


def user_by_name(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user named {username!r}")
    return user


def create_user(
    session: Session,
    actor: Actor,
    *,
    area_id: uuid.UUID,
    username: str,
    password: str,
    role: str,
    display_name: str | None = None,
    is_superuser: bool = False,
) -> User:
    """A new user with a role in one area. Area admins may do it; superusers only by the CLI."""
    authorize(actor, Action.MEMBER_MANAGE, area_id, "area")
    if is_superuser and actor is not SYSTEM:
        raise Invalid("superusers are made from the command line only")
    passwords.check_strength(password, username)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise AlreadyExists(
            f"a user named {username!r} already exists", errors={"username": ["taken"]}
        )
    user = User(
        username=username,
        display_name=display_name or username,
        password_hash=passwords.hash_password(password),
        is_superuser=is_superuser,
    )
    session.add(user)
    session.flush()
    session.add(Membership(user_id=user.id, area_id=area_id, role=role))
    audit.record(session, actor, "user.create", "user", user.id, area_id=area_id, role=role)
    session.flush()
    return user


def member_view(user: User, role: str) -> dict:
    return {
        "user_id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "role": role,
        "disabled": user.disabled_at is not None,
    }


def set_role(session: Session, actor: Actor, area_id: uuid.UUID, username: str, role: str) -> dict:
    """Give a role in this area to someone the actor already manages elsewhere (or a superuser,
    anyone). Another park's people are out of reach, and indistinguishable from no one: an admin
    cannot take them in, nor learn from the answer which usernames exist."""
    authorize(actor, Action.MEMBER_MANAGE, area_id, "area")
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not (
        actor.is_superuser
        or any(actor.may(Action.MEMBER_MANAGE, a) for a in roles_of(session, user.id))
    ):
        raise NotFound(f"no user named {username!r} among the people you manage")
    membership = session.get(Membership, (user.id, area_id))
    if membership is None:
        membership = Membership(user_id=user.id, area_id=area_id, role=role)
        session.add(membership)
    else:
        membership.role = role
    audit.record(session, actor, "member.set_role", "user", user.id, area_id=area_id, role=role)
    session.flush()
    return member_view(user, role)


def members(session: Session, actor: Actor, area_id: uuid.UUID) -> list[dict]:
    authorize(actor, Action.MEMBER_VIEW, area_id, "area")
    rows = session.execute(
        select(User, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.area_id == area_id)
        .order_by(User.username)
    )
    return [member_view(user, role) for user, role in rows]


def memberships_of(session: Session, user_id: uuid.UUID) -> list[dict]:
    rows = session.execute(
        select(Membership.area_id, Area.slug, Membership.role)
        .join(Area, Area.id == Membership.area_id)
        .where(Membership.user_id == user_id)
        .order_by(Area.slug)
    )
    return [{"area_id": a, "area_slug": s, "role": r} for a, s, r in rows]


def disable_user(session: Session, actor: Actor, username: str) -> User:
    """Disabling takes effect on the user's very next request, and on their devices' too."""
    user = user_by_name(session, username)
    if actor is not SYSTEM:
        areas = roles_of(session, user.id)
        if not areas:
            raise NotFound(f"no user named {username!r}")
        for area_id in areas:
            authorize(actor, Action.MEMBER_MANAGE, area_id, "user")
    user.disabled_at = user.disabled_at or utcnow()
    session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    audit.record(session, actor, "user.disable", "user", user.id)
    session.flush()
    return user


def sign_in(session: Session, username: str, password: str, ttl_hours: int) -> IssuedToken:
    user = session.scalar(select(User).where(User.username == username))
    right = passwords.verify(user.password_hash if user else None, password)
    # A disabled account answers as a wrong password does: no answer tells a guesser that the
    # password was right.
    if user is None or not right or user.disabled_at is not None:
        raise Unauthenticated("wrong username or password")
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    token = tokens.new_token(tokens.USER_TOKEN_PREFIX)
    expires_at = utcnow() + timedelta(hours=ttl_hours)
    session.add(ApiToken(user_id=user.id, token_hash=tokens.digest(token), expires_at=expires_at))
    audit.record(session, Actor("user", user.id, user_id=user.id), "auth.sign_in", "user", user.id)
    session.flush()
    return IssuedToken(token, expires_at)


def sign_out(session: Session, token: str) -> None:
    session.execute(
        update(ApiToken)
        .where(ApiToken.token_hash == tokens.digest(token), ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def authenticate_user_token(session: Session, token: str) -> Actor:
    row = session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == tokens.digest(token))
    ).first()
    if row is None:
        raise Unauthenticated("unknown access token")
    api_token, user = row
    if api_token.revoked_at is not None or user.disabled_at is not None:
        raise TokenRevoked("this access token has been revoked; sign in again")
    if api_token.expires_at <= utcnow():
        raise Unauthenticated("this access token has expired; sign in again")
    return actor_for(session, user)


def profile(session: Session, actor: Actor) -> dict:
    if actor.user_id is None:
        raise NotFound("the command line has no profile")
    return profile_of(session, session.get(User, actor.user_id))


def profile_of(session: Session, user: User) -> dict:
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "is_superuser": user.is_superuser,
        "disabled": user.disabled_at is not None,
        "memberships": memberships_of(session, user.id),
    }
