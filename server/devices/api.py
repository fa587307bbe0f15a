"""HTTP endpoints of devices: enrolment codes, enrolment, listing and revocation."""

from __future__ import annotations

import uuid

from flask import current_app, request

from schemas.common import Problem
from schemas.devices import DeviceOut, EnrolmentCodeCreate, EnrolmentCodeOut, EnrolOut, EnrolRequest
from server.areas.web import in_area
from server.core.api import API_PREFIX, Blueprint
from server.core.web import attempts, commit, current_actor, db, source_address
from server.devices import service

blp = Blueprint("devices", __name__, url_prefix=API_PREFIX, description="Handheld devices")


@blp.post("/areas/<area>/enrolment-codes")
@blp.arguments(EnrolmentCodeCreate)
@blp.response(201, EnrolmentCodeOut)
@in_area
def create_enrolment_code(body, area_id):
    """A one-time code (and its QR code) that enrols one handheld for one ranger."""
    config = current_app.extensions["rangersync"].config
    return commit(
        service.create_enrolment_code(
            db(),
            current_actor(),
            area_id,
            body["username"],
            ttl_hours=config.enrolment_code_ttl_hours,
            server_url=config.public_url or request.host_url.rstrip("/"),
        )
    )


@blp.post("/devices/enrol")
@blp.arguments(EnrolRequest)
@blp.response(201, EnrolOut)
@blp.alt_response(
    429,
    schema=Problem,
    content_type="application/problem+json",
    description="too many failed attempts from here: wait the Retry-After header's seconds",
    headers={"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}},
)
def enrol(body):
    """Exchange a one-time enrolment code for this device's token (shown once). Bad codes are
    counted per address: past a few, 429 with Retry-After, whatever the code."""
    ttl_days = current_app.extensions["rangersync"].config.device_token_ttl_days
    with attempts("enrolment").attempt(
        {"source": (source_address(),)}, failures=(service.EnrolmentCodeInvalid,)
    ):
        return commit(service.enrol(db(), **body, token_ttl_days=ttl_days))


@blp.get("/areas/<area>/devices")
@blp.response(200, DeviceOut(many=True))
@in_area
def list_devices(area_id):
    """Devices enrolled in the area, revoked ones included."""
    return service.list_devices(db(), current_actor(), area_id)


@blp.get("/devices/<uuid:device_id>")
@blp.response(200, DeviceOut)
def get_device(device_id: uuid.UUID):
    """One device; a device may always read itself."""
    return service.get_device(db(), current_actor(), device_id)


@blp.post("/devices/<uuid:device_id>/revoke")
@blp.response(200, DeviceOut)
def revoke(device_id: uuid.UUID):
    """Revoke a device: its next request is refused (401, device-revoked)."""
    return commit(service.revoke(db(), current_actor(), device_id))
