"""HTTP endpoints of sync: push and pull for devices; quarantine and conflicts for managers."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from flask import current_app, request

from schemas.sync import (
    ConflictOut,
    DismissIn,
    PullIn,
    PullOut,
    PushIn,
    PushOut,
    QuarantineOut,
    ReadmitIn,
    ReadmitOut,
    StateQuery,
)
from server.areas.web import in_area
from server.core import failpoints, metrics
from server.core.api import API_PREFIX, Blueprint
from server.core.arrival import ARRIVED_AT
from server.core.errors import DomainError, Invalid
from server.core.params import NotANumber, whole_number
from server.core.web import bearer_token, commit, current_actor, db
from server.devices import service as devices_service
from server.devices.service import DeviceRevoked
from server.safety import hooks as safety_hooks
from server.sync import pull as pull_service
from server.sync import push as push_service
from server.sync import review
from server.sync.cursor import Cursor
from sync.protocol import (
    MIN_PROTOCOL_VERSION,
    PROTOCOL_HEADER,
    PROTOCOL_VERSION,
    SENT_AT_HEADER,
    SUPPORTED_VERSIONS,
)

blp = Blueprint("sync", __name__, url_prefix=API_PREFIX, description="Field sync (devices)")
review_blp = Blueprint(
    "sync-review",
    __name__,
    url_prefix=API_PREFIX,
    description="Quarantine and conflicts (managers)",
)


class ProtocolMissing(DomainError):
    code = "protocol-missing"
    title = "The request does not say which protocol version it speaks"


class ProtocolUnsupported(DomainError):
    code = "protocol-unsupported"
    title = "This protocol version is not supported"


class ProtocolTooOld(DomainError):
    status = 426
    code = "protocol-too-old"
    title = "This app is too old for this server"


@blp.before_request
def _check_protocol():
    raw = request.headers.get(PROTOCOL_HEADER)
    supported = {"supported": list(SUPPORTED_VERSIONS)}
    if raw is None:
        raise ProtocolMissing(
            f"send the {PROTOCOL_HEADER} header (this server speaks {PROTOCOL_VERSION})",
            extra=supported,
        )
    try:
        version = whole_number(raw, PROTOCOL_HEADER)
    except NotANumber as error:
        raise ProtocolUnsupported(error.detail, errors=error.errors, extra=supported) from None
    if version < MIN_PROTOCOL_VERSION:
        raise ProtocolTooOld(
            f"protocol {version} is no longer supported; update the app (this server speaks "
            f"{MIN_PROTOCOL_VERSION} to {PROTOCOL_VERSION})",
            extra=supported,
        )
    if version > PROTOCOL_VERSION:
        raise ProtocolUnsupported(
            f"protocol {version} is newer than this server's {PROTOCOL_VERSION}; speak "
            f"{PROTOCOL_VERSION} or update the server",
            extra=supported,
        )


@blp.after_request
def _say_protocol(response):
    response.headers[PROTOCOL_HEADER] = str(PROTOCOL_VERSION)
    if response.status_code == 426:
        response.headers["Upgrade"] = f"RangerSync/{PROTOCOL_VERSION}"
    return response


def _sent_at() -> datetime | None:
    """The device's clock when it started sending (SENT_AT_HEADER), if it said."""
    raw = request.headers.get(SENT_AT_HEADER)
    if raw is None:
        return None
    try:
        sent_at = datetime.fromisoformat(raw.strip())
    except ValueError:
        sent_at = None
    if sent_at is None or sent_at.tzinfo is None:
        raise Invalid(
            f"{SENT_AT_HEADER} must be an ISO 8601 time with its offset, got {raw[:64]!r}",
            errors={SENT_AT_HEADER: ["not an ISO 8601 time with offset"]},
        )
    return sent_at


@blp.post("/sync/push")
@blp.arguments(PushIn)
@blp.response(200, PushOut)
def push(body):
    """Push a batch of records; every record gets its own verdict. Answered after commit."""
    try:
        actor = current_actor()
    except DeviceRevoked as error:
        commit(review.quarantine_revoked(db(), error.extra["device_id"], body["records"]))
        raise
    tolerance = timedelta(seconds=current_app.extensions["rangersync"].config.clock_tolerance_s)
    clock = push_service.ClockReading(_sent_at(), request.environ.get(ARRIVED_AT))
    result = commit(
        push_service.push(db(), actor, body["device_time"], body["records"], tolerance, clock)
    )
    metrics.count_push(result.results)
    failpoints.hit("push.after_commit")  # fault tests: committed, and the answer never leaves
    safety_hooks.after_push(db(), actor)  # positions, geofences, rules: own transaction
    return result


@blp.get("/sync/pull")
@blp.arguments(PullIn, location="query")
@blp.response(200, PullOut)
def pull(args):
    """Changes in the device's scope since its cursor, in pages; 304 when nothing changed."""
    actor = current_actor()
    config = current_app.extensions["rangersync"].config
    renewed = commit(
        devices_service.renew_token(db(), actor, bearer_token() or "", config.device_token_ttl_days)
    )
    secret = config.secret_key
    cursor = Cursor.decode(args["cursor"], secret, actor.id) if args["cursor"] else None
    page = pull_service.pull(db(), actor, cursor, args["limit"] or pull_service.PULL_PAGE_SIZE)
    token = page.cursor.encode(secret)
    if page.unchanged and renewed is None and request.if_none_match.contains(token):
        return "", 304, {"ETag": f'"{token}"'}
    answer = {
        "protocol": page.protocol,
        "changes": page.changes,
        "cursor": token,
        "more": page.more,
        "full_resync": page.full_resync,
    }
    if renewed is not None:
        answer["renewed_token"] = renewed
    return answer, 200, {"ETag": f'"{token}"'}


@review_blp.get("/areas/<area>/quarantine")
@review_blp.arguments(StateQuery, location="query")
@review_blp.response(200, QuarantineOut(many=True))
@in_area
def list_quarantine(args, area_id):
    """Records that could not be stored as sent, with the reason."""
    return review.list_quarantine(db(), current_actor(), area_id, args["state"])


@review_blp.post("/quarantine/<uuid:entry_id>/readmit")
@review_blp.arguments(ReadmitIn)
@review_blp.response(200, ReadmitOut)
def readmit(body, entry_id: uuid.UUID):
    """Retry a quarantined record, as sent or as fixed; it stays open if still rejected."""
    entry, verdict = review.readmit(db(), current_actor(), entry_id, body["record"])
    return commit({"entry": entry, "verdict": verdict})


@review_blp.post("/quarantine/<uuid:entry_id>/dismiss")
@review_blp.arguments(DismissIn)
@review_blp.response(200, QuarantineOut)
def dismiss(body, entry_id: uuid.UUID):
    """Close a quarantined record without storing it; the raw record is kept."""
    return commit(review.dismiss(db(), current_actor(), entry_id, body["reason"]))


@review_blp.get("/areas/<area>/conflicts")
@review_blp.arguments(StateQuery, location="query")
@review_blp.response(200, ConflictOut(many=True))
@in_area
def list_conflicts(args, area_id):
    """Versions of records that disagreed with the stored one, kept for a decision."""
    return review.list_conflicts(db(), current_actor(), area_id, args["state"])


@review_blp.post("/conflicts/<uuid:conflict_id>/resolve")
@review_blp.response(200, ConflictOut)
def resolve_conflict(conflict_id: uuid.UUID):
    """Mark a conflict as reconciled."""
    return commit(review.resolve_conflict(db(), current_actor(), conflict_id))
