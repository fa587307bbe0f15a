"""A ranger's SOS, over HTTP from the handheld or as a signed text message through a gateway:
stored once per (device, counter), raising a critical alert to the managers and to the patrols
near the ranger."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import Point
from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from server.accounts.models import User
from server.core import audit
from server.core.errors import Conflict, Forbidden, Invalid, Unauthenticated
from server.core.policy import DEVICE_ROLE, Action, Actor, authorize
from server.devices.models import Device
from server.safety.alerts import raise_alert
from server.safety.models import SosCall
from sync.protocol import sos as sos_text


class SosReplayed(Conflict):
    code = "sos-replayed"
    title = "This SOS message was already received"


class SosForged(Unauthenticated):
    code = "sos-not-authentic"
    title = "The SOS message's signature does not match its device"


@dataclass(frozen=True)
class SosResult:
    id: uuid.UUID
    alert_id: uuid.UUID
    channel: str
    duplicate: bool


# The position becomes the device's last known one if it is newer; the area's settings are made
# if they were not yet; the answer is the radius of "nearby". One round trip: an SOS is short.
_POSITION_AND_RADIUS = """
WITH position AS (
    INSERT INTO device_positions (device_id, area_id, geom, fixed_at)
    VALUES (:device, :area, ST_GeomFromWKB(:geom, 4326), :at)
    ON CONFLICT (device_id) DO UPDATE
    SET geom = excluded.geom, fixed_at = excluded.fixed_at, patrol_id = NULL, updated_at = now()
    WHERE excluded.fixed_at > device_positions.fixed_at
), made AS (
    INSERT INTO safety_settings (area_id) VALUES (:area)
    ON CONFLICT DO NOTHING RETURNING nearby_radius_km
)
SELECT nearby_radius_km FROM made
UNION ALL SELECT nearby_radius_km FROM safety_settings WHERE area_id = :area
LIMIT 1
"""


def _raise(
    session: Session,
    device: Device,
    call_id: uuid.UUID,
    point: Point,
    sent_at: datetime,
    message: str | None,
    counter: int,
    channel: str,
    sender: str | None,
) -> SosResult:
    alert_id = uuid.uuid4()  # known before the alert is raised, so the call row holds it at once
    stored = session.execute(
        insert(SosCall)
        .values(
            id=call_id,
            area_id=device.area_id,
            device_id=device.id,
            user_id=device.user_id,
            counter=counter,
            geom=from_shape(point, srid=4326),
            sent_at_device=sent_at,
            text=message,
            channel=channel,
            sender=sender,
            alert_id=alert_id,
        )
        .on_conflict_do_nothing()
        .returning(SosCall.id)
    ).scalar_one_or_none()
    if stored is None:
        return _existing(session, call_id, point, sent_at, message, channel)
    radius_km = session.execute(
        text(_POSITION_AND_RADIUS),
        {"device": device.id, "area": device.area_id, "geom": point.wkb, "at": sent_at},
    ).scalar_one()
    user = session.get(User, device.user_id)  # loaded with the device when it signed in
    view = raise_alert(
        session,
        device.area_id,
        severity="critical",
        kind="sos",
        source="sos",
        message=f"SOS from {user.username}"
        + (f": {message}" if message else "")
        + f" (by {'text message' if channel == 'sms' else 'data'})",
        geometry=point,
        radius_m=radius_km * 1000,
        audience_={"geofence": True},
        dedupe_key=f"sos:{call_id}",
        subject_id=call_id,
        alert_id=alert_id,
    )
    return SosResult(call_id, view.id, channel, duplicate=False)


def _existing(session: Session, call_id, point, sent_at, message, channel) -> SosResult:
    call = session.get(SosCall, call_id)
    same = (
        to_shape(call.geom).equals_exact(point, 1e-9)
        and call.sent_at_device == sent_at
        and (call.text or None) == (message or None)
    )
    if channel == "sms":
        raise SosReplayed("this device's SOS with that counter was already received")
    if not same:
        raise Conflict(
            "this device already sent a different SOS with that counter; use the next one",
            extra={"sos_id": str(call_id)},
        )
    return SosResult(call_id, call.alert_id, call.channel, duplicate=True)


def raise_sos(
    session: Session,
    actor: Actor,
    *,
    counter: int,
    position: Point,
    sent_at: datetime,
    text: str | None = None,
) -> SosResult:
    """An SOS from an enrolled device over HTTP; a retry of the same SOS is answered again."""
    if actor.kind != "device":
        raise Forbidden("an SOS comes from an enrolled device")
    device = session.get(Device, actor.id)
    authorize(actor, Action.SOS_RAISE, device.area_id, "area")
    call_id = sos_text.sos_id(device.id, counter)
    point = Point(position.x, position.y)
    result = _raise(session, device, call_id, point, sent_at, text, counter, "http", None)
    if not result.duplicate:
        audit.record(session, actor, "sos.raise", "sos", call_id, area_id=device.area_id)
    return result


def raise_sos_from_text(session: Session, message: str, sender: str | None = None) -> SosResult:
    """An SOS that came as a text message through a gateway: authentic (its MAC matches its
    device's key) and new (its counter not seen before), or refused."""
    try:
        sos = sos_text.parse(message)
    except sos_text.SosFormatError as error:
        raise Invalid(f"not an SOS message: {error}", errors={"/text": [str(error)]}) from None
    device = session.get(Device, sos.device_id)
    if device is None or device.revoked_at is not None:
        raise SosForged("no enrolled device has this SOS key")
    # the token before a renewal the device may not have received yet signs as well
    keys = (device.token_hash, device.previous_token_hash)
    if not any(sos_text.verify(sos, sos_text.key_from_token_hash(k)) for k in keys if k):
        raise SosForged("the signature does not match the device")
    point = Point(sos.lon, sos.lat)
    result = _raise(
        session, device, sos.id, point, sos.sent_at, sos.text, sos.counter, "sms", sender
    )
    actor = Actor("device", device.id, {device.area_id: DEVICE_ROLE}, user_id=device.user_id)
    audit.record(session, actor, "sos.raise", "sos", sos.id, area_id=device.area_id, channel="sms")
    return result
