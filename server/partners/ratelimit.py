"""Each partner key's rate limit, kept by the `limits` library (moving window).

The window lives in the worker process's memory: with N gunicorn workers a key may make up to N
times its limit in the worst case. One machine per park makes that acceptable; a scale-out
deployment points `limits` at a shared storage (Redis/Memcached) instead.
"""

from __future__ import annotations

import math
import time
import uuid

from limits import parse_many
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from server.core.errors import DomainError


class TooManyRequests(DomainError):
    status = 429
    code = "too-many-requests"
    title = "Too many requests"


class KeyRateLimiter:
    def __init__(self) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def hit(self, key_id: uuid.UUID, rate_limit: str) -> None:
        """Count one request of the key; 429 with the seconds to wait when over its limit."""
        for item in parse_many(rate_limit):
            if not self._limiter.hit(item, "partner-key", str(key_id)):
                reset_at, _ = self._limiter.get_window_stats(item, "partner-key", str(key_id))
                wait = max(1, math.ceil(reset_at - time.time()))
                raise TooManyRequests(
                    f"this key may make {item} requests; wait {wait} s",
                    extra={"retry_after_s": wait},
                )
