"""When a request's headers arrived: the outermost WSGI layer stamps it, before any body is read
(gzip inflation reads it whole) and before a push waits its turn, so that clock skew measured
against it leaves out the time the body took to travel and the time spent queued."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime

ARRIVED_AT = "rangersync.arrived_at"


class StampArrival:
    def __init__(self, app: Callable) -> None:
        self.app = app

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        environ[ARRIVED_AT] = datetime.now(UTC)
        return self.app(environ, start_response)
