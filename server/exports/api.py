"""HTTP face of exports: managers under /api/v1, partners (with their key) under /ogc/exports.

A small export (at most EXPORT_STREAM_MAX_FEATURES features) is made in the request and sent
back as a file; a larger one answers 202 Accepted with its job (state, progress, Location), and
the job's `download` link once the worker has written it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

from flask import Blueprint as FlaskBlueprint
from flask import Response, current_app, jsonify, request, url_for
from marshmallow import ValidationError

from schemas.exports import ExportJobOut, ExportRequest, PartnerExportRequest
from server.core.api import API_PREFIX, Blueprint
from server.core.web import current_actor, db
from server.exports import jobs, service
from server.ogc import api as ogc_api
from server.ogc.service import Access, InvalidParameter

blp = Blueprint("exports", __name__, url_prefix=API_PREFIX, description="Exports of an area")
partner_blp = FlaskBlueprint("partner_exports", __name__, url_prefix="/ogc/exports")
partner_blp.after_request(ogc_api.log_partner_request)
CHUNK = 64 * 1024
FILE_TYPES = "gpkg, csv, geojson, gpx, kml or a Darwin Core Archive (zip)"


def _config():
    return current_app.extensions["rangersync"].config


def _send(path: Path, name: str, media_type: str, *, delete: bool) -> Response:
    """The file in chunks (and gone once sent, when it was made for this request alone)."""
    size = path.stat().st_size

    def chunks() -> Iterator[bytes]:
        try:
            with path.open("rb") as f:
                while chunk := f.read(CHUNK):
                    yield chunk
        finally:
            if delete:
                path.unlink(missing_ok=True)

    headers = {"Content-Disposition": f'attachment; filename="{name}"', "Content-Length": str(size)}
    return Response(chunks(), mimetype=media_type, headers=headers)


def _answer(asked: jobs.Requested, access: Access, job_endpoint: str, file_endpoint: str):
    if asked.job is not None:
        db().commit()
        doc = _job_doc(
            jobs.view(asked.job, asked.area_slug), job_endpoint, file_endpoint, asked.area_slug
        )
        response = jsonify(ExportJobOut().dump(doc))
        response.status_code = 202
        response.headers["Location"] = doc["url"]
        return response
    path = _config().export_dir / "tmp" / f"{uuid.uuid4()}.{jobs.SUFFIXES[asked.format]}"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        service.export(
            db(), access, asked.area_slug, asked.format, path, everything=asked.everything
        )
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    db().rollback()  # read-only: end the transaction before the bytes go out
    name = jobs.file_name(asked.area_slug, asked.format)
    return _send(path, name, jobs.MEDIA_TYPES[asked.format], delete=True)


def _url(endpoint: str, **values) -> str:
    if endpoint.startswith("partner_exports.") and request.args.get("key"):
        values["key"] = request.args["key"]  # as /ogc/ links: a pasted URL keeps working
    return url_for(endpoint, _external=True, **values)


def _job_doc(doc: dict, job_endpoint: str, file_endpoint: str, area: str) -> dict:
    doc["url"] = _url(job_endpoint, area=area, job_id=doc["id"])
    doc["download"] = (
        _url(file_endpoint, area=area, job_id=doc["id"]) if doc["state"] == "done" else None
    )
    return doc


# --- managers ------------------------------------------------------------------------------------


@blp.post("/areas/<area>/exports")
@blp.arguments(ExportRequest)
@blp.response(
    200,
    content_type="application/octet-stream",
    description=f"a small export, made at once: {FILE_TYPES}",
)
@blp.alt_response(
    202,
    schema=ExportJobOut,
    description="a large export: a job for the worker; Location names it",
)
def request_export(body, area: str):
    """Export the area's data (what partners see; managers may add `everything`)."""
    access = Access(current_actor())
    asked = jobs.request_export(
        db(),
        access,
        area,
        body["format"],
        everything=body["everything"],
        stream_max_features=_config().export_stream_max_features,
    )
    return _answer(asked, access, "exports.job", "exports.job_file")


@blp.get("/areas/<area>/exports/<uuid:job_id>")
@blp.response(200, ExportJobOut)
def job(area: str, job_id: uuid.UUID):
    """An export job: its state, progress and, once done, its download link (its requester)."""
    doc = jobs.get_job(db(), Access(current_actor()), area, job_id)
    return _job_doc(doc, "exports.job", "exports.job_file", area)


@blp.get("/areas/<area>/exports/<uuid:job_id>/file")
@blp.response(200, content_type="application/octet-stream", description=FILE_TYPES)
def job_file(area: str, job_id: uuid.UUID):
    """The finished export's file (409 while it runs, 410 once expired)."""
    path, name, media_type = jobs.job_file(
        db(), Access(current_actor()), area, job_id, _config().export_dir
    )
    db().rollback()
    return _send(path, name, media_type, delete=False)


# --- partners, with their key (logged like every /ogc/ request) ----------------------------------


@partner_blp.post("")
def partner_request_export():
    """POST /ogc/exports?area=SLUG&format=F: what the key may see of the area, geoprivacy
    applied as on every partner route."""
    try:
        args = PartnerExportRequest().load(
            {k: v for k, v in request.args.items() if k in ("area", "format")}
        )
    except ValidationError as error:
        raise InvalidParameter(
            "a query parameter is not valid: see errors", errors=error.messages
        ) from error
    access = ogc_api.access()
    asked = jobs.request_export(
        db(),
        access,
        args["area"],
        args["format"],
        stream_max_features=_config().export_stream_max_features,
    )
    return _answer(asked, access, "partner_exports.job", "partner_exports.job_file")


@partner_blp.get("/<area>/<uuid:job_id>", endpoint="job")
def partner_job(area: str, job_id: uuid.UUID):
    doc = jobs.get_job(db(), ogc_api.access(), area, job_id)
    doc = _job_doc(doc, "partner_exports.job", "partner_exports.job_file", area)
    return jsonify(ExportJobOut().dump(doc))


@partner_blp.get("/<area>/<uuid:job_id>/file", endpoint="job_file")
def partner_job_file(area: str, job_id: uuid.UUID):
    path, name, media_type = jobs.job_file(
        db(), ogc_api.access(), area, job_id, _config().export_dir
    )
    return _send(path, name, media_type, delete=False)
