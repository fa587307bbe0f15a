"""HTTP endpoints of the SOS: the device's (JSON, device token) and the text gateway's webhook."""

from __future__ import annotations

import hmac

from flask import current_app

from schemas.alerts import SosIn, SosOut, SosTextIn
from server.core.api import API_PREFIX, Blueprint
from server.core.errors import Unauthenticated
from server.core.web import bearer_token, commit, current_actor, db
from server.safety import sos

blp = Blueprint("sos", __name__, url_prefix=API_PREFIX, description="SOS from rangers")


@blp.post("/sos")
@blp.arguments(SosIn)
@blp.response(201, SosOut)
@blp.alt_response(200, schema=SosOut, description="this SOS had already arrived")
def raise_sos(body):
    """A ranger's SOS: a critical alert to the managers and to the patrols nearby. Retrying the
    same SOS (same counter) is safe: 200 with `duplicate`."""
    result = commit(sos.raise_sos(db(), current_actor(), **body))
    return result, 200 if result.duplicate else 201


@blp.post("/sos/text")
@blp.arguments(SosTextIn)
@blp.response(201, SosOut)
def raise_sos_from_text(body):
    """The webhook an SMS gateway or satellite-messenger service posts a received message to.

    The message authenticates itself (signed with its device's key); forged ones get 401, a
    replayed one 409. With SOS_WEBHOOK_TOKEN set, the gateway must also send it as a bearer
    token."""
    expected = current_app.extensions["rangersync"].config.sos_webhook_token
    if expected and not hmac.compare_digest((bearer_token() or "").encode(), expected.encode()):
        raise Unauthenticated("the gateway must send the webhook token as a bearer token")
    return commit(sos.raise_sos_from_text(db(), body["text"], body["sender"]))
