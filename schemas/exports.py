"""Wire shapes of exports: asking for one, and the job a large one becomes."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from schemas.common import Out

FORMATS = ("gpkg", "csv", "geojson", "gpx", "kml", "dwca")
STATES = ("queued", "running", "done", "failed", "expired")


class ExportRequest(Schema):
    format = fields.String(required=True, validate=validate.OneOf(FORMATS))
    everything = fields.Boolean(
        load_default=False,
        metadata={
            "description": "managers: also every report as recorded and the patrols' lines"
            " (not in a Darwin Core Archive, which stays the partner view)"
        },
    )


class PartnerExportRequest(Schema):
    """A partner's export (query parameters of POST /ogc/exports)."""

    area = fields.String(required=True, validate=validate.Length(min=1, max=100))
    format = fields.String(required=True, validate=validate.OneOf(FORMATS))


class ExportJobOut(Out):
    id = fields.UUID()
    area = fields.String()
    format = fields.String(validate=validate.OneOf(FORMATS))
    everything = fields.Boolean()
    state = fields.String(validate=validate.OneOf(STATES))
    progress_percent = fields.Float(metadata={"description": "features read of rows_total"})
    rows_done = fields.Integer()
    rows_total = fields.Integer(allow_none=True)
    written = fields.Dict(
        allow_none=True, metadata={"description": "what the writer counted, per layer"}
    )
    size_bytes = fields.Integer(allow_none=True)
    error = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    finished_at = fields.AwareDateTime(allow_none=True)
    expires_at = fields.AwareDateTime(
        allow_none=True, metadata={"description": "the file may be downloaded until then"}
    )
    url = fields.String(metadata={"description": "this job (Location of the 202)"})
    download = fields.String(
        allow_none=True, metadata={"description": "the file's URL, once the job is done"}
    )
