"""Keeping the SOS fast beside bulk sync: each app process works on at most `slots` pushes at a
time, lets at most `queue` more wait, and answers any push beyond that with 503 and Retry-After
(the reference client retries it with back-off, as it does any 503).

Pushes are throughput work and their devices retry; an SOS, an acknowledgement or a pull is
latency work. Without the gate a storm of pushes takes every thread of every process and shares
the GIL among CPU-bound handlers, and a small request waits for a whole push to end; with it, a
process always keeps a thread, and nearly all of the GIL, for everything else. Configured by
PUSH_CONCURRENCY (0: no gate) and PUSH_QUEUE; keep slots + queue below WEB_THREADS.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable

from server.core.metrics import PUSH_GATE_INSIDE, PUSH_GATE_REFUSED
from server.core.timing import GATE_WAIT

PUSH_PATH = "/api/v1/sync/push"
RETRY_AFTER_S = 2


class PushGate:
    """WSGI middleware around the app, for POST /api/v1/sync/push only."""

    def __init__(self, app: Callable, slots: int, queue: int) -> None:
        self.app = app
        self.slots = threading.BoundedSemaphore(slots)
        self.limit = slots + queue
        self.inside = 0
        self.lock = threading.Lock()

    def busy(self) -> bool:
        """Pushes are being worked on or waiting in this process."""
        return self.inside > 0

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != PUSH_PATH or environ.get("REQUEST_METHOD") != "POST":
            return self.app(environ, start_response)
        with self.lock:
            if self.inside >= self.limit:
                PUSH_GATE_REFUSED.inc()
                return _busy(start_response)
            self.inside += 1
            PUSH_GATE_INSIDE.inc()
        try:
            waiting = time.perf_counter()
            with self.slots:
                environ[GATE_WAIT] = time.perf_counter() - waiting
                # Push answers are small JSON documents, made whole before they are returned.
                return list(self.app(environ, start_response))
        finally:
            with self.lock:
                self.inside -= 1
                PUSH_GATE_INSIDE.dec()


def _busy(start_response: Callable) -> list[bytes]:
    body = json.dumps(
        {
            "type": "/problems/server-busy",
            "title": "The server is busy with other pushes",
            "status": 503,
            "detail": f"too many pushes at once; retry in {RETRY_AFTER_S} s (nothing was stored)",
        }
    ).encode()
    start_response(
        "503 Service Unavailable",
        [
            ("Content-Type", "application/problem+json"),
            ("Content-Length", str(len(body))),
            ("Retry-After", str(RETRY_AFTER_S)),
        ],
    )
    return [body]
