"""tus 1.0 endpoints for evidence files (core, creation, checksum, expiration, termination), so a
tus client library uploads to RangerSync unchanged. Errors are problem documents, as everywhere."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import timedelta

from flask import Blueprint, Response, current_app, request, url_for
from werkzeug.exceptions import ClientDisconnected
from werkzeug.http import http_date

from server.core.api import API_PREFIX
from server.core.errors import DomainError, Invalid
from server.core.params import whole_number
from server.core.web import commit, current_actor, db
from server.evidence import images, service
from server.evidence.storage import FileStore

TUS_VERSION = "1.0.0"
EXTENSIONS = "creation,checksum,expiration,termination"
blp = Blueprint("uploads", __name__, url_prefix=API_PREFIX)


class TusVersionMissing(DomainError):
    status = 412
    code = "tus-version"
    title = "This server speaks tus 1.0.0"


def _store() -> FileStore:
    return current_app.extensions["rangersync"].evidence


def _headers(state: service.UploadState | None = None) -> dict[str, str]:
    headers = {"Tus-Resumable": TUS_VERSION, "Cache-Control": "no-store"}
    if state is not None:
        headers |= {
            "Upload-Offset": str(state.offset),
            "Upload-Length": str(state.length),
            "Upload-Expires": http_date(state.expires_at),
        }
    return headers


@blp.before_request
def _speaks_tus():
    # Chunks of evidence are bounded by the upload limit, not by the JSON request limit.
    request.max_content_length = current_app.extensions["rangersync"].config.max_upload_bytes
    if request.method != "OPTIONS" and request.headers.get("Tus-Resumable") != TUS_VERSION:
        raise TusVersionMissing("send Tus-Resumable: 1.0.0", extra={"tus_version": TUS_VERSION})


@blp.after_request
def _tus_headers(response: Response):
    response.headers["Tus-Resumable"] = TUS_VERSION
    if response.status_code == 412:
        response.headers["Tus-Version"] = TUS_VERSION
    return response


@blp.route("/uploads", methods=["OPTIONS"])
def options():
    config = current_app.extensions["rangersync"].config
    return Response(
        status=204,
        headers=_headers()
        | {
            "Tus-Version": TUS_VERSION,
            "Tus-Extension": EXTENSIONS,
            "Tus-Max-Size": str(config.max_upload_bytes),
            "Tus-Checksum-Algorithm": ",".join(service.CHECKSUMS),
        },
    )


def _metadata(header: str) -> dict[str, str]:
    pairs = {}
    for item in filter(None, (part.strip() for part in header.split(","))):
        key, _, value = item.partition(" ")
        try:
            pairs[key] = base64.b64decode(value, validate=True).decode() if value else ""
        except (binascii.Error, UnicodeDecodeError):
            raise Invalid(f"Upload-Metadata value of {key!r} is not base64") from None
    return pairs


def _int_header(name: str) -> int:
    return whole_number(request.headers.get(name, ""), name)


@blp.post("/uploads")
def create():
    """Creation: Upload-Length and Upload-Metadata `attachment_id <base64 uuid>`."""
    config = current_app.extensions["rangersync"].config
    metadata = _metadata(request.headers.get("Upload-Metadata", ""))
    try:
        attachment_id = uuid.UUID(metadata.get("attachment_id", ""))
    except ValueError:
        raise Invalid("Upload-Metadata must name the attachment_id the report declared") from None
    state = service.create(
        db(),
        current_actor(),
        _store(),
        attachment_id,
        _int_header("Upload-Length"),
        max_bytes=config.max_upload_bytes,
        ttl=timedelta(hours=config.upload_ttl_hours),
    )
    commit(state)
    location = url_for("uploads.patch", upload_id=state.id, _external=True)
    return Response(status=201, headers=_headers(state) | {"Location": location})


@blp.route("/uploads/<uuid:upload_id>", methods=["HEAD"])
def head(upload_id: uuid.UUID):
    return Response(status=200, headers=_headers(service.state(db(), current_actor(), upload_id)))


class _Body:
    """The request body, where a client that goes away is a connection error like any other."""

    def __init__(self, stream) -> None:
        self.stream = stream

    def read(self, size: int) -> bytes:
        try:
            return self.stream.read(size)
        except ClientDisconnected as error:
            raise ConnectionError("the client went away mid-chunk") from error


@blp.patch("/uploads/<uuid:upload_id>")
def patch(upload_id: uuid.UUID):
    if request.mimetype != "application/offset+octet-stream":
        raise service.WrongMedia("send chunks as application/offset+octet-stream")
    try:
        state = service.append(
            db(),
            current_actor(),
            _store(),
            upload_id,
            _int_header("Upload-Offset"),
            _Body(request.stream),
            request.content_length,
            request.headers.get("Upload-Checksum"),
            max_pixels=current_app.extensions["rangersync"].config.max_image_pixels,
        )
    except (service.HashMismatch, service.WrongMedia, images.TooManyPixels):
        commit(None)  # the attachment is marked failed; the device is told why
        raise
    commit(state)
    return Response(status=204, headers=_headers(state))


@blp.delete("/uploads/<uuid:upload_id>")
def delete(upload_id: uuid.UUID):
    """Termination: the partial bytes are gone; the attachment expects an upload again."""
    commit(service.terminate(db(), current_actor(), _store(), upload_id))
    return Response(status=204, headers=_headers())
