"""Each partner key's rate limit, kept by the `limits` library (moving window) in storage every
app process shares (server.core.ratelimit): N gunicorn workers or N machines give one budget."""

from __future__ import annotations

import uuid

from server.core.ratelimit import PostgresStorage, Throttle, TooManyRequests

__all__ = ["KeyRateLimiter", "TooManyRequests"]


class KeyRateLimiter:
    def __init__(self, storage: PostgresStorage) -> None:
        self.storage = storage

    def hit(self, key_id: uuid.UUID, rate_limit: str) -> None:
        """Count one request of the key; 429 with the seconds to wait when over its limit."""
        Throttle(self.storage, "partner-key", rate_limit).hit(str(key_id))
