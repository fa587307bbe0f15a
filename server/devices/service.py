"""What device management does: one-time enrolment codes, enrolment, revocation, authentication."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

import segno
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from server.accounts.models import Membership, User
from server.accounts.service import actor_for, user_by_name
from server.areas.models import Area
from server.core import audit, tokens
from server.core.db import utcnow
from server.core.errors import DomainError, Forbidden, Invalid, TokenRevoked, Unauthenticated
from server.core.policy import DEVICE_ROLE, FIELD_ROLES, Action, Actor, authorize, load_in_area
from server.devices.models import Device, EnrolmentCode

# Seen within this long counts as "now": saves a write on every request from a busy device.
LAST_SEEN_RESOLUTION = timedelta(minutes=1)
DEFAULT_TOKEN_TTL_DAYS = 30
# A sync renews a token issued longer ago than this: a handheld syncing daily always holds a
# token with (nearly) the whole lifetime ahead, without a new secret on every pull.
RENEW_AFTER = timedelta(days=1)


class EnrolmentCodeInvalid(DomainError):
    status = 400
    code = "enrolment-code-invalid"
    title = "The enrolment code cannot be used"


class DeviceRevoked(TokenRevoked):
    code = "device-revoked"
    title = "This device has been revoked"


class DeviceTokenExpired(Unauthenticated):
    code = "device-token-expired"
    title = "This device's token has expired"


@dataclass(frozen=True)
class IssuedCode:
    code: str
    expires_at: datetime
    area_id: uuid.UUID
    username: str
    enrol_uri: str
    qr_svg: str


@dataclass(frozen=True)
class DeviceView:
    id: uuid.UUID
    area_id: uuid.UUID
    name: str
    username: str
    enrolled_at: datetime
    revoked_at: datetime | None
    last_seen_at: datetime | None
    app_version: str | None
    platform: str | None

    @classmethod
    def of(cls, device: Device, username: str) -> DeviceView:
        return cls(
            id=device.id,
            area_id=device.area_id,
            name=device.name,
            username=username,
            enrolled_at=device.enrolled_at,
            revoked_at=device.revoked_at,
            last_seen_at=device.last_seen_at,
            app_version=device.app_version,
            platform=device.platform,
        )


@dataclass(frozen=True)
class RenewedToken:
    token: str
    expires_at: datetime


@dataclass(frozen=True)
class Enrolment:
    device_id: uuid.UUID
    token: str
    area_id: uuid.UUID
    area_slug: str
    username: str


def enrol_uri(code: str, server_url: str | None) -> str:
    query = {"code": code} | ({"server": server_url} if server_url else {})
    return "rangersync://enrol?" + urlencode(query)


def qr_svg(uri: str) -> str:
    return segno.make(uri, error="m").svg_inline(scale=4)


def create_enrolment_code(
    session: Session,
    actor: Actor,
    area_id: uuid.UUID,
    username: str,
    *,
    ttl_hours: int,
    server_url: str | None = None,
) -> IssuedCode:
    if actor.kind == "device":  # a handheld never mints codes, whoever it was enrolled for
        raise Forbidden("a device cannot make enrolment codes; a manager does, signed in")
    authorize(actor, Action.DEVICE_ENROL, area_id, "area")
    user = user_by_name(session, username)
    role = session.scalar(
        select(Membership.role).where(Membership.user_id == user.id, Membership.area_id == area_id)
    )
    if role is None:
        raise Invalid(
            f"{username!r} has no role in this area; add them to it first",
            errors={"username": ["not a member of this area"]},
        )
    if role not in FIELD_ROLES:
        raise Invalid(
            f"{username!r} is a {role} here: only field staff carry handhelds",
            errors={"username": [f"a {role} cannot have a device"]},
        )
    if user.disabled_at is not None:
        raise Invalid(f"{username!r} is disabled", errors={"username": ["disabled"]})
    code = tokens.new_enrolment_code()
    expires_at = utcnow() + timedelta(hours=ttl_hours)
    row = EnrolmentCode(
        area_id=area_id,
        user_id=user.id,
        code_hash=tokens.digest(code),
        created_by=actor.user_id,
        expires_at=expires_at,
    )
    session.add(row)
    session.flush()
    audit.record(
        session, actor, "device.code", "enrolment_code", row.id, area_id=area_id, user=username
    )
    uri = enrol_uri(code, server_url)
    return IssuedCode(code, expires_at, area_id, username, uri, qr_svg(uri))


def enrol(
    session: Session,
    code: str,
    *,
    name: str | None = None,
    app_version: str | None = None,
    platform: str | None = None,
    token_ttl_days: int = DEFAULT_TOKEN_TTL_DAYS,
) -> Enrolment:
    """Exchange a one-time code for a device token. Concurrent uses of one code: one wins."""
    code_hash = tokens.digest(tokens.normalise_code(code))
    claimed = session.execute(
        update(EnrolmentCode)
        .where(
            EnrolmentCode.code_hash == code_hash,
            EnrolmentCode.used_at.is_(None),
            EnrolmentCode.expires_at > utcnow(),
        )
        .values(used_at=utcnow())
        .returning(EnrolmentCode.id, EnrolmentCode.area_id, EnrolmentCode.user_id)
    ).first()
    if claimed is None:
        existing = session.scalar(select(EnrolmentCode).where(EnrolmentCode.code_hash == code_hash))
        if existing is None:
            reason = "this enrolment code is not known; check it with your manager"
        elif existing.used_at is not None:
            reason = "this enrolment code has already been used; ask your manager for a new one"
        else:
            reason = "this enrolment code has expired; ask your manager for a new one"
        raise EnrolmentCodeInvalid(reason, errors={"code": [reason]})
    user = session.get(User, claimed.user_id)
    if user.disabled_at is not None:
        raise EnrolmentCodeInvalid("the ranger this code was made for has been disabled")
    role = session.scalar(
        select(Membership.role).where(
            Membership.user_id == user.id, Membership.area_id == claimed.area_id
        )
    )
    if role not in FIELD_ROLES:  # the role changed since the code was made
        raise EnrolmentCodeInvalid("the person this code was made for no longer works in the field")
    area = session.get(Area, claimed.area_id)
    token = tokens.new_token(tokens.DEVICE_TOKEN_PREFIX)
    device = Device(
        area_id=area.id,
        user_id=user.id,
        name=name or f"{user.username}'s device",
        token_hash=tokens.digest(token),
        token_expires_at=utcnow() + timedelta(days=token_ttl_days),
        app_version=app_version,
        platform=platform,
        last_seen_at=utcnow(),
    )
    session.add(device)
    session.flush()
    session.execute(
        update(EnrolmentCode).where(EnrolmentCode.id == claimed.id).values(device_id=device.id)
    )
    device_actor = Actor("device", device.id, {area.id: DEVICE_ROLE}, user_id=user.id)
    audit.record(session, device_actor, "device.enrol", "device", device.id, area_id=area.id)
    return Enrolment(device.id, token, area.id, area.slug, user.username)


def _device_in_view(session: Session, actor: Actor, device_id: uuid.UUID, action: Action) -> Device:
    return load_in_area(session, actor, action, Device, device_id, "device")


def revoke(session: Session, actor: Actor, device_id: uuid.UUID) -> DeviceView:
    """Revocation takes effect on the device's very next request; its data stays."""
    device = _device_in_view(session, actor, device_id, Action.DEVICE_REVOKE)
    if device.revoked_at is None:
        device.revoked_at = utcnow()
        device.revoked_by = actor.user_id
        audit.record(session, actor, "device.revoke", "device", device.id, area_id=device.area_id)
    session.flush()
    return DeviceView.of(device, session.get(User, device.user_id).username)


def list_devices(session: Session, actor: Actor, area_id: uuid.UUID) -> list[DeviceView]:
    authorize(actor, Action.DEVICE_VIEW, area_id, "area")
    rows = session.execute(
        select(Device, User.username)
        .join(User, User.id == Device.user_id)
        .where(Device.area_id == area_id)
        .order_by(Device.enrolled_at)
    )
    return [DeviceView.of(device, username) for device, username in rows]


def get_device(session: Session, actor: Actor, device_id: uuid.UUID) -> DeviceView:
    if actor.kind == "device" and actor.id == device_id:
        device = session.get(Device, device_id)
    else:
        device = _device_in_view(session, actor, device_id, Action.DEVICE_VIEW)
    return DeviceView.of(device, session.get(User, device.user_id).username)


def authenticate_device_token(session: Session, token: str) -> tuple[Actor, bool]:
    """The device's actor, and whether the device row was changed (last_seen_at moved, or the
    token before a renewal retired now that the new one is used): the caller commits that."""
    presented = tokens.digest(token)
    row = session.execute(
        select(Device, User)
        .join(User, User.id == Device.user_id)
        .where(or_(Device.token_hash == presented, Device.previous_token_hash == presented))
    ).first()
    if row is None:
        raise Unauthenticated("unknown device token; enrol the device again")
    device, user = row
    if device.revoked_at is not None:
        raise DeviceRevoked(
            "this device has been revoked; what it sends is kept for a manager to review",
            extra={"device_id": str(device.id)},
        )
    if user.disabled_at is not None:
        raise DeviceRevoked(
            "the ranger this device belongs to has been disabled",
            extra={"device_id": str(device.id)},
        )
    now = utcnow()
    current = device.token_hash == presented
    expires_at = device.token_expires_at if current else device.previous_token_expires_at
    if expires_at is None or expires_at <= now:
        raise DeviceTokenExpired(
            "this device's token has expired (it had not synced for too long); enrol it again",
            extra={"device_id": str(device.id)},
        )
    touched = device.last_seen_at is None or now - device.last_seen_at > LAST_SEEN_RESOLUTION
    if current and device.previous_token_hash is not None:
        device.previous_token_hash = device.previous_token_expires_at = None  # renewal received
        touched = True
    if touched:
        device.last_seen_at = now
    return device_actor(session, device, user), touched


def authenticate_device(session: Session, token: str) -> Actor:
    """The device's actor (the app's authenticator for device tokens); a moved last_seen_at is
    left in the session for the caller to commit."""
    return authenticate_device_token(session, token)[0]


def renew_token(
    session: Session, actor: Actor, presented: str, ttl_days: int
) -> RenewedToken | None:
    """A fresh token for the device making this request (its sync), when the one it presented
    was issued more than RENEW_AFTER ago or is the one from before a renewal it never received.
    The presented token keeps working until the device is seen with the fresh one; the caller
    commits, and hands the fresh token to the device in its answer."""
    if actor.kind != "device":
        return None
    device = session.get(Device, actor.id, with_for_update=True)
    if device is None:
        return None
    now = utcnow()
    ttl = timedelta(days=ttl_days)
    presented_hash = tokens.digest(presented)
    if presented_hash == device.token_hash:
        if device.token_expires_at - now > ttl - RENEW_AFTER:
            return None
        device.previous_token_hash = device.token_hash
        device.previous_token_expires_at = device.token_expires_at
    elif presented_hash != device.previous_token_hash:
        return None  # neither: not this device's token (cannot happen after authentication)
    # else the device missed the last renewal: it gets another; the lost one is forgotten
    token = tokens.new_token(tokens.DEVICE_TOKEN_PREFIX)
    device.token_hash = tokens.digest(token)
    device.token_expires_at = now + ttl
    session.flush()
    audit.record(session, actor, "device.token_renew", "device", device.id, area_id=device.area_id)
    return RenewedToken(token, device.token_expires_at)


def device_actor(session: Session, device: Device, user: User) -> Actor:
    """A device acts in its own area only, and as field staff whatever its ranger's role: a
    handheld enrolled for a manager records, syncs and raises SOS, but never mints enrolment
    codes, manages people or devices, or issues alerts (those need the manager signed in).
    A ranger no longer field staff there (made a partner) gets no role from their device."""
    role = actor_for(session, user).role_in(device.area_id)
    roles = {device.area_id: DEVICE_ROLE} if role in FIELD_ROLES else {}
    return Actor("device", device.id, roles, user_id=user.id)
