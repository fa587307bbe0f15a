"""The safety work that follows a device's push, in a transaction of its own.

The push has already committed and its verdicts stand: a failure here is logged and rolled back,
never turned into an error for the device; the worker's scheduled evaluation catches up.
"""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from server.core.policy import Actor
from server.safety import rules

log = logging.getLogger(__name__)


def after_push(session: Session, actor: Actor) -> None:
    if actor.kind != "device" or actor.id is None:
        return
    try:
        rules.after_push(session, actor.id)
        session.commit()
    except Exception:  # the push stands; the scheduled evaluation will see the same data
        session.rollback()
        log.exception("safety evaluation after the push of device %s failed", actor.id)
