"""How many live streams one app process holds at once: each holds a worker thread for up to a
minute, so without a cap a few dozen dashboard tabs (or one device opening stream after stream)
took every thread and an SOS waited its turn behind them.

Two caps, both per process: per token (LIVE_STREAMS_PER_TOKEN; beyond it 429) and in all
(LIVE_STREAMS_MAX, by default a quarter of the worker's threads; beyond it 503). Either answer
says when to ask again; the threads left over always answer the SOS and the sync.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from server.core.errors import DomainError

RETRY_AFTER_S = 10


class TooManyStreams(DomainError):
    status = 429
    code = "too-many-live-streams"
    title = "This credential already holds as many live streams as it may"


class StreamsBusy(DomainError):
    status = 503
    code = "live-streams-busy"
    title = "This server holds as many live streams as it may"


class StreamSlots:
    def __init__(self, per_process: int, per_token: int) -> None:
        self.per_process = per_process
        self.per_token = per_token
        self._held: dict[str, int] = {}
        self._lock = threading.Lock()

    def take(self, token_key: str) -> Callable[[], None]:
        """A slot for one stream of `token_key`, or an error; answers the slot's release (which
        may be called more than once)."""
        with self._lock:
            if self._held.get(token_key, 0) >= self.per_token:
                raise TooManyStreams(
                    f"one credential may hold {self.per_token} live streams at once; "
                    "close one (another tab?) or wait",
                    extra={"retry_after_s": RETRY_AFTER_S, "max_streams": self.per_token},
                )
            if sum(self._held.values()) >= self.per_process:
                raise StreamsBusy(
                    "this server holds as many live streams as it may; try again shortly",
                    extra={"retry_after_s": RETRY_AFTER_S},
                )
            self._held[token_key] = self._held.get(token_key, 0) + 1
        released = threading.Event()

        def release() -> None:
            with self._lock:
                if released.is_set():
                    return
                released.set()
                left = self._held[token_key] - 1
                if left:
                    self._held[token_key] = left
                else:
                    del self._held[token_key]

        return release

    def held(self) -> int:
        with self._lock:
            return sum(self._held.values())
