"""Keeping the SOS fast beside bulk sync: at most N pushes are processed at once in each app
process; the others wait (on a semaphore, using no CPU) before their body is even parsed.

Pushes are throughput work and their devices retry; an SOS, an alert acknowledgement or a pull
is latency work. With every thread of a process free to take a push, a storm fills them all with
CPU-bound work that shares one GIL, and a small request waits behind it; with the cap, it finds a
thread and the GIL nearly free. Set by PUSH_CONCURRENCY (0: no cap)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

PUSH_PATH = "/api/v1/sync/push"


class PushGate:
    """WSGI middleware: POST /api/v1/sync/push waits for one of `slots` per process."""

    def __init__(self, app: Callable, slots: int) -> None:
        self.app = app
        self.slots = threading.BoundedSemaphore(slots)

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != PUSH_PATH or environ.get("REQUEST_METHOD") != "POST":
            return self.app(environ, start_response)
        self.slots.acquire()
        try:
            # Push answers are small JSON documents, produced whole before they are returned.
            return list(self.app(environ, start_response))
        finally:
            self.slots.release()
