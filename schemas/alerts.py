"""Wire shapes of ranger safety: alerts and their audience, acknowledgements, SOS, settings."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from schemas.common import Out
from schemas.geo import Geometry

SEVERITIES = ("info", "warning", "critical")
Time = fields.AwareDateTime  # ISO 8601 with an offset; a naive time is refused, never guessed


class Audience(Schema):
    """Who receives an alert. Nothing set: the whole area. Otherwise the members of `teams`, the
    devices last seen in `zones`, and (with a geometry) the devices last seen inside it."""

    teams = fields.List(fields.UUID(), validate=validate.Length(max=100))
    zones = fields.List(fields.UUID(), validate=validate.Length(max=100))
    geofence = fields.Boolean(
        metadata={"description": "only the devices inside the geometry (with teams/zones: also)"}
    )


class AlertIn(Schema):
    geometry = Geometry(
        allowed=("Point", "Polygon", "MultiPolygon"),
        allow_none=True,
        metadata={"description": "where the danger is: a polygon, or a point with radius_m"},
    )
    radius_m = fields.Float(
        allow_none=True, allow_nan=False, validate=validate.Range(min=1, max=200_000)
    )
    severity = fields.String(required=True, validate=validate.OneOf(SEVERITIES))
    message = fields.String(required=True, validate=validate.Length(min=1, max=1000))
    valid_from = Time(load_default=None)
    valid_until = Time(load_default=None)
    audience = fields.Nested(Audience, load_default=dict)

    @validates_schema
    def _consistent(self, data, **_):
        geometry, radius = data.get("geometry"), data.get("radius_m")
        if geometry is not None and geometry.geom_type == "Point" and radius is None:
            raise ValidationError("a point needs a radius_m", "radius_m")
        if radius is not None and (geometry is None or geometry.geom_type != "Point"):
            raise ValidationError("radius_m goes with a point geometry", "radius_m")
        if data.get("audience", {}).get("geofence") and geometry is None:
            raise ValidationError("a geofenced audience needs a geometry", "audience")


class Recipient(Out):
    device_id = fields.UUID()
    device_name = fields.String()
    username = fields.String()
    acknowledged_at = fields.DateTime(allow_none=True)


class AlertOut(Out):
    id = fields.UUID(required=True)
    area_id = fields.UUID()
    kind = fields.String()
    source = fields.String()
    severity = fields.String()
    message = fields.String()
    geometry = Geometry(allow_none=True)
    radius_m = fields.Float(allow_none=True)
    audience = fields.Dict()
    valid_from = fields.DateTime()
    valid_until = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    cancelled_at = fields.DateTime(allow_none=True)
    escalated_at = fields.DateTime(allow_none=True)
    subject_id = fields.UUID(allow_none=True)
    recipients = fields.Integer(metadata={"description": "devices the alert concerns"})
    acknowledged = fields.Integer(metadata={"description": "of which acknowledged it"})


class AlertDetailOut(AlertOut):
    seen = fields.List(fields.Nested(Recipient))
    not_seen = fields.List(fields.Nested(Recipient))


class AlertListQuery(Schema):
    active = fields.Boolean(load_default=True, metadata={"description": "only the active ones"})


class AckIn(Schema):
    acknowledged_at = Time(load_default=None, metadata={"description": "device time"})


class AckOut(Out):
    alert_id = fields.UUID()
    device_id = fields.UUID()
    acknowledged_at = fields.DateTime()
    first = fields.Boolean(metadata={"description": "false when this was already acknowledged"})


class SosIn(Schema):
    """An SOS over HTTP. `counter` is the device's SOS number (the same one the text form
    carries), so one SOS sent both ways is one call."""

    counter = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=2**40))
    position = Geometry(allowed=("Point",), required=True)
    sent_at = Time(required=True)
    text = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))


class SosTextIn(Schema):
    """What an SMS gateway or satellite-messenger service posts: the message as received."""

    text = fields.String(required=True, validate=validate.Length(min=1, max=1600))
    sender = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64))


class SosOut(Out):
    id = fields.UUID()
    alert_id = fields.UUID()
    channel = fields.String()
    duplicate = fields.Boolean(metadata={"description": "this SOS had already arrived"})


class SettingsIn(Schema):
    overdue_grace_min = fields.Integer(strict=True, validate=validate.Range(min=0, max=10080))
    no_movement_min = fields.Integer(strict=True, validate=validate.Range(min=1, max=10080))
    no_movement_radius_m = fields.Float(allow_nan=False, validate=validate.Range(min=1, max=5000))
    hostile_radius_km = fields.Float(allow_nan=False, validate=validate.Range(min=0.1, max=200))
    hostile_max_age_min = fields.Integer(strict=True, validate=validate.Range(min=1, max=10080))
    nearby_radius_km = fields.Float(allow_nan=False, validate=validate.Range(min=0.1, max=200))
    escalate_after_min = fields.Integer(strict=True, validate=validate.Range(min=1, max=10080))
    notify_emails = fields.List(fields.Email(), validate=validate.Length(max=50))
    notify_sms = fields.List(
        fields.String(validate=validate.Regexp(r"^\+[1-9][0-9]{6,14}$", error="E.164 number")),
        validate=validate.Length(max=50),
    )
    notify_webhooks = fields.List(
        fields.URL(schemes={"http", "https"}, require_tld=False), validate=validate.Length(max=20)
    )


class SettingsOut(Out):
    overdue_grace_min = fields.Integer()
    no_movement_min = fields.Integer()
    no_movement_radius_m = fields.Float()
    hostile_radius_km = fields.Float()
    hostile_max_age_min = fields.Integer()
    nearby_radius_km = fields.Float()
    escalate_after_min = fields.Integer()
    notify_emails = fields.List(fields.String())
    notify_sms = fields.List(fields.String())
    notify_webhooks = fields.List(fields.String())


class NotificationOut(Out):
    id = fields.UUID()
    alert_id = fields.UUID()
    purpose = fields.String()
    channel = fields.String()
    target = fields.String()
    state = fields.String()
    attempts = fields.Integer()
    last_error = fields.String(allow_none=True)
    sent_at = fields.DateTime(allow_none=True)


HANDLING_STEPS = ("acknowledge", "assign", "note", "resolve")


class HandlingStepIn(Schema):
    """A duty officer's step: `acknowledge` ("I'm handling it"), `assign` a `responder`, a
    `note`, or `resolve` (ends the alert; a closing note is welcome)."""

    step = fields.String(required=True, validate=validate.OneOf(HANDLING_STEPS))
    responder = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(min=1, max=200)
    )
    note = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(min=1, max=2000)
    )

    @validates_schema
    def _complete(self, data, **_):
        if data["step"] == "assign" and not (data.get("responder") or "").strip():
            raise ValidationError("assigning names the responder", "responder")
        if data["step"] != "assign" and data.get("responder") is not None:
            raise ValidationError("only an assign step names a responder", "responder")
        if data["step"] == "note" and not (data.get("note") or "").strip():
            raise ValidationError("a note has text", "note")


class HandlingStepOut(Out):
    id = fields.UUID()
    step = fields.String()
    by_name = fields.String(metadata={"description": "the duty officer who took the step"})
    responder = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    at = fields.DateTime()


class RangerOut(Out):
    """The ranger behind an alert (who sent the SOS, or leads the patrol) and where they were."""

    username = fields.String()
    display_name = fields.String()
    phone = fields.String(allow_none=True)
    device_id = fields.UUID(allow_none=True)
    device_name = fields.String(allow_none=True)
    last_position = fields.Dict(allow_none=True, metadata={"description": "GeoJSON Point"})
    last_fix_at = fields.DateTime(allow_none=True)
    patrol_id = fields.UUID(allow_none=True)
    patrol_planned_end = fields.DateTime(allow_none=True)
    sos_text = fields.String(allow_none=True)
    sos_channel = fields.String(allow_none=True)


class AlertCardOut(Out):
    """An SOS or critical alert as the duty officer's card: the alert, the ranger, the handling."""

    alert = fields.Nested(AlertOut)
    ranger = fields.Nested(RangerOut, allow_none=True)
    state = fields.String(metadata={"description": "open, acknowledged, assigned or resolved"})
    handled_by = fields.String(allow_none=True)
    responder = fields.String(allow_none=True)
    steps = fields.List(fields.Nested(HandlingStepOut))
