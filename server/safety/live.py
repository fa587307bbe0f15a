"""The live channel: Server-Sent Events of an area's safety events (alerts raised, acknowledged,
escalated, cancelled), read from the `safety_events` table so that every app process serves the
same stream. A client resumes with Last-Event-ID; a stream ends after a while and EventSource
reconnects by itself, so a worker is never held forever.

Streams are capped per token and per process (server/safety/stream_slots.py), so they never take
the threads an SOS needs; and each heartbeat re-checks the credential, so a stream ends within
seconds of its device being revoked or its user disabled."""

from __future__ import annotations

import json
import math
import time

from flask import Blueprint, Response, current_app, request, stream_with_context
from sqlalchemy import text

from server.areas.web import in_area
from server.core.api import API_PREFIX
from server.core.errors import DomainError, Invalid
from server.core.params import whole_number
from server.core.policy import Action, authorize
from server.core.web import current_actor, current_credential, db
from server.safety import audience, events
from server.safety.stream_slots import StreamSlots

blp = Blueprint("live", __name__, url_prefix=API_PREFIX)
POLL_S = 0.5
# A comment line this often: proxies keep the connection, and a client that left is noticed
# (the second write fails) within seconds, so a worker shutting down is not held by it.
HEARTBEAT_S = 3.0
STREAM_S = 60.0  # then the client reconnects (with Last-Event-ID): no worker is held forever
SLOTS = "rangersync.live_slots"

_CONCERNING = f"""
SELECT a.id FROM safety_alerts a
WHERE a.id = ANY(:ids) AND {audience.concerns(":device", ":user")}
"""  # noqa: S608 (a constant fragment)


def install(app, per_process: int, per_token: int) -> None:
    app.extensions[SLOTS] = StreamSlots(per_process, per_token)
    app.register_blueprint(blp)


def _seconds() -> float:
    raw = request.args.get("seconds")
    if raw is None:
        return STREAM_S
    try:
        seconds = float(raw)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        raise Invalid(
            "seconds is a positive number", errors={"query:seconds": ["a positive number"]}
        )
    return min(seconds, STREAM_S)


def _start_after(area_id) -> int:
    if (raw := request.headers.get("Last-Event-ID")) is not None:
        return whole_number(raw, "Last-Event-ID")
    if (raw := request.args.get("after")) is not None:
        return whole_number(raw, "query:after")
    return events.latest_id(db(), area_id)


@blp.get("/areas/<area>/live")
@in_area
def live(area_id):
    """text/event-stream of the area's safety events: managers get all of them, a device only
    the alerts that concern it."""
    actor = current_actor()
    authorize(
        actor, Action.ALERT_VIEW if actor.kind == "device" else Action.ALERT_ISSUE, area_id, "area"
    )
    after = _start_after(area_id)
    seconds = _seconds()
    token_key, recheck = current_credential()
    device_user = (actor.id, actor.user_id) if actor.kind == "device" else None
    release = current_app.extensions[SLOTS].take(token_key)
    db().close()  # the stream reads with short sessions of its own
    factory = current_app.extensions["rangersync"].session_factory

    def stream():
        nonlocal after
        yield "retry: 2000\n\n"
        started = beat = checked = time.monotonic()
        while time.monotonic() - started < seconds:
            with factory() as session:
                if time.monotonic() - checked > HEARTBEAT_S:
                    try:
                        recheck(session)
                    except DomainError as error:  # revoked, disabled, expired: the stream ends
                        yield f"event: revoked\ndata: {json.dumps({'detail': error.detail})}\n\n"
                        return
                    checked = time.monotonic()
                batch = events.since(session, area_id, after)
                visible = _visible(session, batch, device_user)
            for event in batch:
                after = event["id"]
                if event["id"] in visible:
                    data = json.dumps(event["payload"], default=str)
                    yield f"id: {event['id']}\nevent: {event['kind']}\ndata: {data}\n\n"
                    beat = time.monotonic()
            if time.monotonic() - beat > HEARTBEAT_S:
                yield ": keep-alive\n\n"
                beat = time.monotonic()
            if not batch:
                time.sleep(POLL_S)
        yield f"id: {after}\nevent: reconnect\ndata: {{}}\n\n"

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    response = Response(
        stream_with_context(stream()), mimetype="text/event-stream", headers=headers
    )
    response.call_on_close(release)  # the WSGI server closes the body: ended, failed or left
    return response


def _visible(session, batch: list[dict], device_user) -> set[int]:
    if device_user is None:
        return {e["id"] for e in batch}
    ids = [e["alert_id"] for e in batch if e["kind"] in ("alert", "cancelled") and e["alert_id"]]
    if not ids:
        return set()
    device, user = device_user
    concerning = set(
        session.execute(text(_CONCERNING), {"ids": ids, "device": device, "user": user}).scalars()
    )
    return {e["id"] for e in batch if e["alert_id"] in concerning and e["kind"] != "acknowledged"}
