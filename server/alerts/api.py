"""HTTP endpoints of safety alerts: managers issue, list, inspect, cancel; devices acknowledge."""

from __future__ import annotations

import uuid

from schemas.alerts import (
    AckIn,
    AckOut,
    AlertDetailOut,
    AlertIn,
    AlertListQuery,
    AlertOut,
    NotificationOut,
    SettingsIn,
    SettingsOut,
)
from server.alerts import service
from server.areas.service import area_id_of
from server.core.api import API_PREFIX, Blueprint
from server.core.web import commit, current_actor, db
from server.notify import service as notifications
from server.safety import settings

blp = Blueprint("alerts", __name__, url_prefix=API_PREFIX, description="Ranger safety alerts")


@blp.post("/areas/<area>/alerts")
@blp.arguments(AlertIn)
@blp.response(201, AlertOut)
def issue(body, area):
    """Issue an alert to the whole area, to teams, to zones or to whoever is inside its geometry."""
    area_id = area_id_of(db(), current_actor(), area)
    return commit(service.issue_alert(db(), current_actor(), area_id, **body))


@blp.get("/areas/<area>/alerts")
@blp.arguments(AlertListQuery, location="query")
@blp.response(200, AlertOut(many=True))
def list_alerts(args, area):
    """The area's alerts, newest first, with how many devices acknowledged each (managers)."""
    area_id = area_id_of(db(), current_actor(), area)
    return service.list_alerts(db(), current_actor(), area_id, args["active"])


@blp.get("/alerts/<uuid:alert_id>")
@blp.response(200, AlertDetailOut)
def get_alert(alert_id: uuid.UUID):
    """One alert, with the devices that have and have not acknowledged it (managers)."""
    return service.get_alert(db(), current_actor(), alert_id)


@blp.post("/alerts/<uuid:alert_id>/cancel")
@blp.response(200, AlertOut)
def cancel(alert_id: uuid.UUID):
    """Withdraw an alert; devices drop it on their next pull."""
    return commit(service.cancel(db(), current_actor(), alert_id))


@blp.post("/alerts/<uuid:alert_id>/ack")
@blp.arguments(AckIn)
@blp.response(200, AckOut)
def acknowledge(body, alert_id: uuid.UUID):
    """A device acknowledges an alert that concerns it; repeating it changes nothing."""
    return commit(service.acknowledge(db(), current_actor(), alert_id, body["acknowledged_at"]))


@blp.get("/alerts/<uuid:alert_id>/notifications")
@blp.response(200, NotificationOut(many=True))
def alert_notifications(alert_id: uuid.UUID):
    """The email, SMS and webhook notifications of an alert and how their delivery went."""
    return notifications.list_for_alert(db(), current_actor(), alert_id)


@blp.get("/areas/<area>/safety-settings")
@blp.response(200, SettingsOut)
def get_settings(area):
    """The area's rule thresholds and notification targets."""
    area_id = area_id_of(db(), current_actor(), area)
    return commit(settings.get_settings(db(), current_actor(), area_id))


@blp.patch("/areas/<area>/safety-settings")
@blp.arguments(SettingsIn)
@blp.response(200, SettingsOut)
def change_settings(body, area):
    """Change some of the area's thresholds or notification targets."""
    area_id = area_id_of(db(), current_actor(), area)
    return commit(settings.change_settings(db(), current_actor(), area_id, **body))
