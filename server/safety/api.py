"""HTTP endpoints of ranger safety: alerts (managers issue, list, inspect, cancel; devices
acknowledge), the area's safety settings, and the SOS (the device's, JSON with a device token, and
the text gateway's webhook)."""

from __future__ import annotations

import hmac
import uuid

from flask import current_app

from schemas.alerts import (
    AckIn,
    AckOut,
    AlertCardOut,
    AlertDetailOut,
    AlertIn,
    AlertListQuery,
    AlertOut,
    HandlingStepIn,
    NotificationOut,
    SettingsIn,
    SettingsOut,
    SosIn,
    SosOut,
    SosTextIn,
)
from schemas.common import Problem
from server.areas.web import in_area
from server.core.api import API_PREFIX, Blueprint
from server.core.errors import Invalid, Unauthenticated
from server.core.web import attempts, bearer_token, commit, current_actor, db, source_address
from server.safety import alerts, handling, settings, sos

alerts_blp = Blueprint(
    "alerts", __name__, url_prefix=API_PREFIX, description="Ranger safety alerts"
)


@alerts_blp.post("/areas/<area>/alerts")
@alerts_blp.arguments(AlertIn)
@alerts_blp.response(201, AlertOut)
@in_area
def issue(body, area_id):
    """Issue an alert to the whole area, to teams, to zones or to whoever is inside its geometry."""
    return commit(alerts.issue_alert(db(), current_actor(), area_id, **body))


@alerts_blp.get("/areas/<area>/alerts")
@alerts_blp.arguments(AlertListQuery, location="query")
@alerts_blp.response(200, AlertOut(many=True))
@in_area
def list_alerts(args, area_id):
    """The area's alerts, newest first, with how many devices acknowledged each (managers)."""
    return alerts.list_alerts(db(), current_actor(), area_id, args["active"])


@alerts_blp.get("/alerts/<uuid:alert_id>")
@alerts_blp.response(200, AlertDetailOut)
def get_alert(alert_id: uuid.UUID):
    """One alert, with the devices that have and have not acknowledged it (managers)."""
    return alerts.get_alert(db(), current_actor(), alert_id)


@alerts_blp.post("/alerts/<uuid:alert_id>/cancel")
@alerts_blp.response(200, AlertOut)
def cancel(alert_id: uuid.UUID):
    """Withdraw an alert; devices drop it on their next pull."""
    return commit(alerts.cancel(db(), current_actor(), alert_id))


@alerts_blp.post("/alerts/<uuid:alert_id>/ack")
@alerts_blp.arguments(AckIn)
@alerts_blp.response(200, AckOut)
def acknowledge(body, alert_id: uuid.UUID):
    """A device acknowledges an alert that concerns it; repeating it changes nothing."""
    return commit(alerts.acknowledge(db(), current_actor(), alert_id, body["acknowledged_at"]))


@alerts_blp.get("/areas/<area>/alerts/urgent")
@alerts_blp.response(200, AlertCardOut(many=True))
@in_area
def urgent(area_id):
    """The area's active SOS and critical alerts as duty officers' cards (SOS first): the
    ranger, their phone and last position, the patrol, and the handling so far."""
    return handling.urgent_cards(db(), current_actor(), area_id)


@alerts_blp.get("/alerts/<uuid:alert_id>/card")
@alerts_blp.response(200, AlertCardOut)
def alert_card(alert_id: uuid.UUID):
    """One alert as a duty officer's card, with its handling steps."""
    return handling.card(db(), current_actor(), alert_id)


@alerts_blp.post("/alerts/<uuid:alert_id>/handling")
@alerts_blp.arguments(HandlingStepIn)
@alerts_blp.response(201, AlertCardOut)
def handle(body, alert_id: uuid.UUID):
    """A handling step: acknowledge (once: 409 when another officer has), assign a responder,
    add a note, or resolve (ends the alert; 409 on any step after it). Audited and told to the
    live feed as a `handling` event carrying the new card."""
    return commit(handling.add_step(db(), current_actor(), alert_id, **body))


@alerts_blp.get("/alerts/<uuid:alert_id>/notifications")
@alerts_blp.response(200, NotificationOut(many=True))
def alert_notifications(alert_id: uuid.UUID):
    """The email, SMS and webhook notifications of an alert and how their delivery went."""
    return alerts.list_notifications(db(), current_actor(), alert_id)


@alerts_blp.get("/areas/<area>/safety-settings")
@alerts_blp.response(200, SettingsOut)
@in_area
def get_settings(area_id):
    """The area's rule thresholds and notification targets."""
    return commit(settings.get_settings(db(), current_actor(), area_id))


@alerts_blp.patch("/areas/<area>/safety-settings")
@alerts_blp.arguments(SettingsIn)
@alerts_blp.response(200, SettingsOut)
@in_area
def change_settings(body, area_id):
    """Change some of the area's thresholds or notification targets."""
    return commit(settings.change_settings(db(), current_actor(), area_id, **body))


sos_blp = Blueprint("sos", __name__, url_prefix=API_PREFIX, description="SOS from rangers")


@sos_blp.post("/sos")
@sos_blp.arguments(SosIn)
@sos_blp.response(201, SosOut)
@sos_blp.alt_response(200, schema=SosOut, description="this SOS had already arrived")
def raise_sos(body):
    """A ranger's SOS: a critical alert to the managers and to the patrols nearby. Retrying the
    same SOS (same counter) is safe: 200 with `duplicate`."""
    result = commit(sos.raise_sos(db(), current_actor(), **body))
    return result, 200 if result.duplicate else 201


@sos_blp.post("/sos/text")
@sos_blp.arguments(SosTextIn)
@sos_blp.response(201, SosOut)
@sos_blp.alt_response(
    429,
    schema=Problem,
    content_type="application/problem+json",
    description="too many failed attempts from here: wait the Retry-After header's seconds",
    headers={"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}},
)
def raise_sos_from_text(body):
    """The webhook an SMS gateway or satellite-messenger service posts a received message to.

    The message authenticates itself (signed with its device's key); forged ones get 401, a
    replayed one 409. With SOS_WEBHOOK_TOKEN set, the gateway must also send it as a bearer
    token.

    Refused messages (forged, malformed, a wrong webhook token) are counted per sender number
    and per address: past a few, 429 with Retry-After for a short while. Authentic ones never
    count. The SOS a device pushes over the API (POST /sos) is never throttled."""
    expected = current_app.extensions["rangersync"].config.sos_webhook_token
    counted = {"source": (source_address(),)}
    if body["sender"]:  # a message without one counts only against its address
        counted["sender"] = (body["sender"][:64],)
    with attempts("sos-text").attempt(counted, failures=(Unauthenticated, Invalid)):
        if expected and not hmac.compare_digest((bearer_token() or "").encode(), expected.encode()):
            raise Unauthenticated("the gateway must send the webhook token as a bearer token")
        return commit(sos.raise_sos_from_text(db(), body["text"], body["sender"]))
