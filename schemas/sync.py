"""Wire shapes of sync: the push envelope, each kind of record, the answers, the pull page.

The envelope is checked as a whole; each record is checked on its own, so one bad record is
rejected (with a code and a JSON pointer) while the rest of the batch is stored.
"""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, post_dump, validate, validates_schema

from schemas.common import Out
from schemas.geo import Geometry
from schemas.seizures import SeizureIn
from sync.protocol import MAX_RECORDS_PER_PUSH, RECORD_KINDS

PATROL_TYPES = ("foot", "vehicle", "boat", "aerial")
Time = fields.AwareDateTime  # ISO 8601 with an offset; a naive time is refused, never guessed


class RecordIn(Schema):
    """One record in a push: its kind, its client-made UUID, and its data (checked per kind)."""

    kind = fields.String(required=True, validate=validate.OneOf(RECORD_KINDS))
    id = fields.UUID(required=True)
    data = fields.Dict(required=True)


class PushIn(Schema):
    # A lone surrogate or 1e400 inside a record is that record's fault alone: the push judges
    # each record (server.core.api.StrictParser leaves them to it).
    items_judged_alone = "records"

    device_time = Time(
        required=True, metadata={"description": "the device's clock when it sent this push"}
    )
    records = fields.List(
        fields.Raw(),
        required=True,
        validate=validate.Length(max=MAX_RECORDS_PER_PUSH),
        metadata={"description": "records as {kind, id, data}; each gets its own verdict"},
    )


class PatrolIn(Schema):
    patrol_type = fields.String(required=True, validate=validate.OneOf(PATROL_TYPES))
    transport = fields.String(validate=validate.Length(max=100), allow_none=True)
    mandate = fields.String(validate=validate.Length(max=100), allow_none=True)
    team_id = fields.UUID(allow_none=True)
    leader = fields.String(validate=validate.Length(max=63), allow_none=True)
    members = fields.List(fields.String(validate=validate.Length(max=63)), load_default=list)
    armed = fields.Boolean(load_default=False)
    objective = fields.String(validate=validate.Length(max=2000), allow_none=True)
    planned_start = Time(allow_none=True)
    planned_end = Time(allow_none=True)
    started_at = Time(required=True)
    ended_at = Time(allow_none=True)


class PatrolLegIn(Schema):
    patrol_id = fields.UUID(required=True)
    leg_number = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    patrol_type = fields.String(required=True, validate=validate.OneOf(PATROL_TYPES))
    transport = fields.String(validate=validate.Length(max=100), allow_none=True)
    leader = fields.String(validate=validate.Length(max=63), allow_none=True)
    started_at = Time(required=True)
    ended_at = Time(allow_none=True)


class TrackChunkHeader(Schema):
    """The scalar part of a chunk; its columns are checked as arrays (sync.protocol.tracks
    explains them)."""

    patrol_id = fields.UUID(required=True)
    leg_id = fields.UUID(allow_none=True)
    seq = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=2**53))
    t0 = Time(required=True)
    lon0 = fields.Integer(strict=True, required=True)
    lat0 = fields.Integer(strict=True, required=True)
    dt = fields.Raw(required=True)
    ddlon = fields.Raw(required=True)
    ddlat = fields.Raw(required=True)
    acc = fields.Raw(load_default=None)


class ReportIn(Schema):
    category = fields.String(required=True, validate=validate.Length(min=1, max=100))
    category_version = fields.Integer(
        strict=True,
        validate=validate.Range(min=1),
        metadata={
            "description": "the category version (from the pull) the form was filled in with; "
            "the report is checked against it, so an older version stays valid"
        },
    )
    geometry = Geometry(allowed=("Point", "Polygon"), max_vertices=5000, required=True)
    observed_at = Time(required=True)
    attributes = fields.Dict(load_default=dict)
    patrol_id = fields.UUID(allow_none=True)
    priority = fields.Integer(strict=True, validate=validate.Range(min=1, max=4), load_default=3)
    notes = fields.String(validate=validate.Length(max=5000), allow_none=True)


class EditIn(Schema):
    """A change to a mutable record, made on the version the device had (`base_version`)."""

    target = fields.String(
        required=True, validate=validate.OneOf(("report", "patrol", "patrol_leg", "seizure"))
    )
    target_id = fields.UUID(required=True)
    base_version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    changes = fields.Dict(required=True, validate=validate.Length(min=1))


class AttachmentIn(Schema):
    report_id = fields.UUID(required=True)
    sha256 = fields.String(required=True, validate=validate.Regexp(r"^[0-9a-f]{64}$"))
    size_bytes = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=2**40)
    )
    media_type = fields.String(
        required=True, validate=validate.Regexp(r"^(image|video|audio)/[a-z0-9.+-]+$")
    )


class DeviceStatusIn(Schema):
    reported_at = Time(required=True)
    battery_pct = fields.Float(validate=validate.Range(min=0, max=100), allow_none=True)
    app_version = fields.String(validate=validate.Length(max=64), allow_none=True)
    free_storage_bytes = fields.Integer(
        strict=True, validate=validate.Range(min=0), allow_none=True
    )
    pending = fields.Dict(
        keys=fields.String(validate=validate.Length(max=32)),
        values=fields.Integer(strict=True, validate=validate.Range(min=0)),
        load_default=dict,
    )
    oldest_pending_at = Time(allow_none=True)

    @validates_schema
    def _few_pending_kinds(self, data, **kwargs):
        if len(data.get("pending", {})) > 20:
            raise ValidationError("at most 20 kinds of pending items", "pending")


RECORD_SCHEMAS = {
    "patrol": PatrolIn,
    "patrol_leg": PatrolLegIn,
    "track_chunk": TrackChunkHeader,
    "report": ReportIn,
    "seizure": SeizureIn,
    "edit": EditIn,
    "attachment": AttachmentIn,
    "device_status": DeviceStatusIn,
}


class VerdictOut(Out):
    """Fields that do not apply are left out: every byte counts on 2G."""

    id = fields.String(required=True)
    kind = fields.String(allow_none=True)
    verdict = fields.String(
        required=True, metadata={"enum": ["stored", "duplicate", "conflict", "rejected"]}
    )
    code = fields.String(metadata={"description": "why, for rejected and conflict"})
    pointer = fields.String(metadata={"description": "JSON pointer into the record"})
    detail = fields.String()
    version = fields.Integer(metadata={"description": "the stored version, for mutable records"})
    points = fields.Dict(metadata={"description": "track chunks: new, duplicate, conflict counts"})

    @post_dump
    def _without_nulls(self, data, **kwargs):
        return {k: v for k, v in data.items() if v is not None}


class PushOut(Out):
    protocol = fields.Integer(required=True)
    sync_id = fields.UUID(required=True)
    server_time = fields.DateTime(required=True)
    clock_skew_s = fields.Float(required=True)
    clock_suspect = fields.Boolean(required=True)
    summary = fields.Dict(keys=fields.String(), values=fields.Integer())
    results = fields.List(fields.Nested(VerdictOut))


class PullIn(Schema):
    cursor = fields.String(validate=validate.Length(max=4096), load_default=None)
    limit = fields.Integer(validate=validate.Range(min=1, max=2000), load_default=None)


class ChangeOut(Out):
    kind = fields.String(required=True)
    id = fields.UUID(required=True)
    deleted = fields.Boolean(required=True)
    data = fields.Dict(allow_none=True)


class RenewedTokenOut(Out):
    token = fields.String(
        required=True,
        metadata={
            "description": "the device's token from now on; the one sent still works "
            "until this one is first used"
        },
    )
    expires_at = fields.DateTime(required=True)


class PullOut(Out):
    protocol = fields.Integer(required=True)
    changes = fields.List(fields.Nested(ChangeOut))
    cursor = fields.String(required=True, metadata={"description": "send it back next time"})
    more = fields.Boolean(required=True, metadata={"description": "another page follows now"})
    full_resync = fields.Boolean()
    renewed_token = fields.Nested(
        RenewedTokenOut, metadata={"description": "present when the device's token was renewed"}
    )


class QuarantineOut(Out):
    id = fields.UUID(required=True)
    device_id = fields.UUID(allow_none=True)
    kind = fields.String(allow_none=True)
    record_id = fields.String(allow_none=True)
    code = fields.String(required=True)
    pointer = fields.String()
    detail = fields.String()
    raw = fields.Raw(metadata={"description": "the record exactly as the device sent it"})
    received_at = fields.DateTime()
    state = fields.String()
    resolution = fields.Dict(allow_none=True)


class StateQuery(Schema):
    state = fields.String(
        load_default="open",
        validate=validate.OneOf(("open", "readmitted", "dismissed", "resolved")),
    )


class ReadmitIn(Schema):
    record = fields.Dict(
        load_default=None,
        metadata={"description": "the record fixed by the manager; omit to retry it as sent"},
    )


class ReadmitOut(Out):
    entry = fields.Nested(QuarantineOut)
    verdict = fields.Nested(VerdictOut)


class DismissIn(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class ConflictOut(Out):
    id = fields.UUID(required=True)
    device_id = fields.UUID(allow_none=True)
    kind = fields.String(required=True)
    record_id = fields.UUID(required=True)
    reason = fields.String(required=True)
    base_version = fields.Integer(allow_none=True)
    current_version = fields.Integer(allow_none=True)
    content = fields.Raw()
    received_at = fields.DateTime()
    state = fields.String()
