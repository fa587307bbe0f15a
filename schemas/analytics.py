"""Wire shapes of analytics: periods and filters, coverage, effort, findings against effort,
plans, device sync health, and the rows the dashboard lists."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from schemas.common import Out

FORMATS = ("json", "csv", "geojson")
EFFORT_BY = ("patrol_type", "team", "ranger", "patrol", "day", "month", "zone")
STATUSES = ("new", "in_review", "confirmed", "rejected", "closed")


class Format(Schema):
    format = fields.String(
        load_default="json",
        validate=validate.OneOf(FORMATS),
        metadata={"description": "json, or the same table as csv or geojson (an export)"},
    )


class PeriodQuery(Format):
    start = fields.Date(metadata={"description": "first local day (default: 30 days to end)"})
    end = fields.Date(metadata={"description": "last local day, included (default: today)"})

    @validates_schema
    def _ordered(self, data, **_):
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            raise ValidationError("the period ends before it starts", "end")


class MonthQuery(Schema):
    month = fields.String(
        required=True,
        # years 1900–2999: every month the report can be made of (year 0 is no date at all)
        validate=validate.Regexp(
            r"^(19|2[0-9])[0-9]{2}-(0[1-9]|1[0-2])$", error="not a month (YYYY-MM)"
        ),
        metadata={"description": "the month, YYYY-MM, in the area's local days"},
    )
    lang = fields.String(metadata={"description": "the document's language (en, fr, sw…)"})


class TileQuery(Schema):
    start = fields.Date()
    end = fields.Date()


class GapQuery(Format):
    days = fields.Integer(load_default=30, strict=False, validate=validate.Range(min=1, max=3650))
    as_of = fields.Date(metadata={"description": "the last day looked at (default: today)"})


class EffortQuery(PeriodQuery):
    by = fields.String(load_default="patrol_type", validate=validate.OneOf(EFFORT_BY))


class FindingsQuery(PeriodQuery):
    category = fields.String(
        validate=validate.Regexp(r"^[a-z0-9_]+(\.[a-z0-9_]+)*$"),
        metadata={"description": "a category key; a parent key takes in its children"},
    )


class HotspotQuery(FindingsQuery):
    limit = fields.Integer(load_default=10, validate=validate.Range(min=1, max=500))


class HealthQuery(Format):
    stale_hours = fields.Integer(load_default=24, validate=validate.Range(min=1, max=8760))


REPORT_SORTS = ("newest", "oldest", "priority", "status")


class ReportQuery(Format):
    status = fields.String(validate=validate.OneOf(STATUSES))
    category = fields.String(validate=validate.Regexp(r"^[a-z0-9_]+(\.[a-z0-9_]+)*$"))
    start = fields.AwareDateTime()
    end = fields.AwareDateTime()
    q = fields.String(
        validate=validate.Length(max=100),
        metadata={"description": "words found in the category, its label or the notes"},
    )
    sort = fields.String(load_default="newest", validate=validate.OneOf(REPORT_SORTS))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0))


class PatrolQuery(PeriodQuery):
    tracks = fields.Boolean(load_default=False)


class CellSize(Schema):
    cell_m = fields.Integer(required=True, strict=True, validate=validate.Range(min=50, max=20000))


class PlanIn(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)
    zone_ids = fields.List(fields.UUID(), load_default=list, validate=validate.Length(max=200))
    target_hours = fields.Float(
        allow_nan=False, validate=validate.Range(min=0, min_inclusive=False)
    )
    target_km = fields.Float(allow_nan=False, validate=validate.Range(min=0, min_inclusive=False))

    @validates_schema
    def _sane(self, data, **_):
        if data.get("starts_on") and data.get("ends_on") and data["ends_on"] < data["starts_on"]:
            raise ValidationError("the plan ends before it starts", "ends_on")
        if data.get("target_hours") is None and data.get("target_km") is None:
            raise ValidationError("set target_hours, target_km or both", "target_hours")


# Rows: their declared fields are also the columns of the CSV and GeoJSON exports.
def geo() -> fields.Raw:
    return fields.Raw(allow_none=True, metadata={"description": "GeoJSON geometry"})


class ZoneCoverageOut(Out):
    zone_id = fields.UUID()
    name = fields.String()
    kind = fields.String()
    cells = fields.Integer()
    visited = fields.Integer()
    percent = fields.Float()
    hours = fields.Float()
    km = fields.Float()


class CoverageOut(Out):
    area_id = fields.UUID()
    start = fields.Date()
    end = fields.Date()
    cell_m = fields.Integer()
    cells = fields.Integer()
    visited = fields.Integer()
    percent = fields.Float()
    visits = fields.Integer(metadata={"description": "patrol-days in visited cells"})
    hours = fields.Float()
    km = fields.Float()
    zones = fields.List(fields.Nested(ZoneCoverageOut))


class CellOut(Out):
    i = fields.Integer()
    j = fields.Integer()
    visits = fields.Integer(metadata={"description": "patrol-days"})
    patrols = fields.Integer()
    fixes = fields.Integer()
    km = fields.Float()
    hours = fields.Float()
    last_visit = fields.Date()
    geometry = geo()


class GapOut(Out):
    i = fields.Integer()
    j = fields.Integer()
    last_visit = fields.Date(allow_none=True)
    geometry = geo()


class EffortOut(Out):
    key = fields.String()
    label = fields.String()
    patrols = fields.Integer()
    km = fields.Float()
    hours = fields.Float()
    moving_hours = fields.Float(allow_none=True)


class CpueOut(Out):
    category = fields.String()
    findings = fields.Integer()
    km = fields.Float()
    hours = fields.Float()
    per_km = fields.Float(allow_none=True)
    per_hour = fields.Float(allow_none=True)


class FindingCellOut(CpueOut):
    i = fields.Integer()
    j = fields.Integer()
    geometry = geo()


class HotspotOut(Out):
    i = fields.Integer()
    j = fields.Integer()
    findings = fields.Integer()
    categories = fields.String()
    km = fields.Float()
    hours = fields.Float()
    per_hour = fields.Float(allow_none=True)
    geometry = geo()


class TrendOut(Out):
    month = fields.String()
    category = fields.String(allow_none=True)
    findings = fields.Integer()
    km = fields.Float()
    hours = fields.Float()
    per_km = fields.Float(allow_none=True)
    per_hour = fields.Float(allow_none=True)


class PlanOut(Out):
    id = fields.UUID()
    area_id = fields.UUID()
    name = fields.String()
    starts_on = fields.Date()
    ends_on = fields.Date()
    zone_ids = fields.List(fields.UUID())
    target_hours = fields.Float(allow_none=True)
    target_km = fields.Float(allow_none=True)
    actual_hours = fields.Float()
    actual_km = fields.Float()
    hours_percent = fields.Float(allow_none=True)
    km_percent = fields.Float(allow_none=True)
    coverage_percent = fields.Float()
    score_percent = fields.Float(allow_none=True)


class DeviceHealthOut(Out):
    device_id = fields.UUID()
    name = fields.String()
    username = fields.String()
    display_name = fields.String()
    platform = fields.String(allow_none=True)
    app_version = fields.String(allow_none=True)
    enrolled_at = fields.DateTime()
    revoked_at = fields.DateTime(allow_none=True)
    last_seen_at = fields.DateTime(allow_none=True)
    last_sync_at = fields.DateTime(allow_none=True)
    clock_skew_s = fields.Float(allow_none=True)
    clock_suspect = fields.Boolean(allow_none=True)
    status_at = fields.DateTime(allow_none=True)
    battery_pct = fields.Float(allow_none=True)
    free_storage_bytes = fields.Integer(allow_none=True)
    pending = fields.Dict()
    oldest_pending_at = fields.DateTime(allow_none=True)
    quarantined = fields.Integer()
    stale = fields.Boolean()


class OverviewFeatureOut(Out):
    layer = fields.String()
    id = fields.UUID()
    name = fields.String(allow_none=True)
    kind = fields.String(allow_none=True)
    geometry = geo()


class ReportRowOut(Out):
    id = fields.UUID()
    category = fields.String()
    label = fields.String()
    status = fields.String()
    priority = fields.Integer()
    version = fields.Integer()
    observed_at = fields.DateTime()
    received_at = fields.DateTime()
    patrol_id = fields.UUID(allow_none=True)
    clock_suspect = fields.Boolean()
    notes = fields.String(allow_none=True)
    attachments = fields.Integer()
    geometry = geo()


class PatrolRowOut(Out):
    id = fields.UUID()
    patrol_type = fields.String()
    mandate = fields.String(allow_none=True)
    objective = fields.String(allow_none=True)
    started_at = fields.DateTime()
    ended_at = fields.DateTime(allow_none=True)
    planned_start = fields.DateTime(allow_none=True)
    planned_end = fields.DateTime(allow_none=True)
    overdue = fields.Boolean(metadata={"description": "not ended and past its planned end"})
    armed = fields.Boolean()
    team = fields.String(allow_none=True)
    leader = fields.String(
        allow_none=True, metadata={"description": "the leader, else who carried the handheld"}
    )
    members = fields.String(allow_none=True)
    fixes = fields.Integer()
    poor_accuracy = fields.Integer(allow_none=True)
    impossible_speed = fields.Integer(allow_none=True)
    quality = fields.Float(allow_none=True)
    km = fields.Float()
    hours = fields.Float()
    moving_hours = fields.Float()
    reports = fields.Integer()
    geometry = geo()


class LegOut(Out):
    leg_number = fields.Integer()
    patrol_type = fields.String()
    transport = fields.String(allow_none=True)
    started_at = fields.DateTime()
    ended_at = fields.DateTime(allow_none=True)


class ZoneHoursOut(Out):
    name = fields.String()
    hours = fields.Float()
    km = fields.Float()


class PatrolOut(PatrolRowOut):
    legs = fields.List(fields.Nested(LegOut))
    zones = fields.List(fields.Nested(ZoneHoursOut))
    report_list = fields.List(fields.Nested(ReportRowOut))


class LiveOut(Out):
    patrol_id = fields.UUID()
    patrol_type = fields.String()
    team = fields.String(allow_none=True)
    leader = fields.String(allow_none=True)
    ranger = fields.String(
        allow_none=True, metadata={"description": "who carries the handheld (else the leader)"}
    )
    device = fields.String(allow_none=True)
    recorded_at = fields.DateTime()
    accuracy_m = fields.Float(allow_none=True)
    geometry = geo()
