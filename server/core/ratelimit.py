"""Rate limits every process shares: a `limits` storage kept in PostgreSQL, and throttles on it.

The `limits` library decides (its moving-window strategy, its parsing of "5/minute;20/hour");
this module only gives it a storage that lives in the database every app process, gunicorn
worker and machine already shares, so N processes give one budget, not N. Each hit is its own
short transaction on its own connection: a request that fails and rolls back still counts, and
nothing waits on the request's transaction. One key's entries are counted under an advisory
lock on the key, so two processes racing for the last place cannot both get it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from datetime import datetime

from limits import RateLimitItem, parse_many
from limits.storage import MovingWindowSupport, Storage
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import BigInteger, DateTime, Identity, Index, Integer, Text, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from server.core.db import Base
from server.core.errors import DomainError


class TooManyRequests(DomainError):
    status = 429
    code = "too-many-requests"
    title = "Too many requests"


class RateLimitHit(Base):
    """One entry of a moving window: `key` is the limit and who it counts (limits' key_for)."""

    __tablename__ = "rate_limit_hits"
    __table_args__ = (Index("ix_rate_limit_hits_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    key: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class RateLimitCounter(Base):
    """A fixed window's counter (limits' `incr`/`get`), for strategies other than ours."""

    __tablename__ = "rate_limit_counters"

    key: Mapped[str] = mapped_column(Text, primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended(:key, 7))"
# Under the key's lock: drop its expired entries, count the live ones, add `amount` if they fit.
_ACQUIRE = """
    WITH gone AS (
        DELETE FROM rate_limit_hits WHERE key = :key AND expires_at <= clock_timestamp()),
    live AS (
        SELECT count(*) AS n FROM rate_limit_hits
        WHERE key = :key AND at > clock_timestamp() - make_interval(secs => :expiry)),
    added AS (
        INSERT INTO rate_limit_hits (key, at, expires_at)
        SELECT :key, clock_timestamp(), clock_timestamp() + make_interval(secs => :expiry)
        FROM live, generate_series(1, :amount)
        WHERE live.n + :amount <= :limit
        RETURNING 1)
    SELECT count(*) FROM added"""
_WINDOW = """
    SELECT extract(epoch FROM min(at)), count(*) FROM rate_limit_hits
    WHERE key = :key AND at > clock_timestamp() - make_interval(secs => :expiry)"""
_INCR = """
    INSERT INTO rate_limit_counters AS c (key, count, expires_at)
    VALUES (:key, :amount, clock_timestamp() + make_interval(secs => :expiry))
    ON CONFLICT (key) DO UPDATE SET
        count = CASE WHEN c.expires_at <= clock_timestamp() THEN :amount
                     ELSE c.count + :amount END,
        expires_at = CASE WHEN c.expires_at <= clock_timestamp() THEN excluded.expires_at
                          ELSE c.expires_at END
    RETURNING count"""


class PostgresStorage(Storage, MovingWindowSupport):
    """limits' Storage (and its moving-window support) over this app's database."""

    STORAGE_SCHEME = None  # built from an engine, never from a URI

    def __init__(self, engine: Engine) -> None:
        super().__init__()
        self.engine = engine

    @property
    def base_exceptions(self) -> type[Exception]:
        return SQLAlchemyError

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        if amount > limit:
            return False
        with self.engine.begin() as c:
            c.execute(text(_LOCK), {"key": key})
            params = {"key": key, "limit": limit, "expiry": expiry, "amount": amount}
            return bool(c.scalar(text(_ACQUIRE), params))

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        with self.engine.connect() as c:
            start, count = c.execute(text(_WINDOW), {"key": key, "expiry": expiry}).one()
        return (float(start) if start is not None else time.time()), int(count)

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        with self.engine.begin() as c:
            return int(c.scalar(text(_INCR), {"key": key, "expiry": expiry, "amount": amount}) or 0)

    def get(self, key: str) -> int:
        with self.engine.connect() as c:
            return int(
                c.scalar(
                    text(
                        "SELECT count FROM rate_limit_counters"
                        " WHERE key = :key AND expires_at > clock_timestamp()"
                    ),
                    {"key": key},
                )
                or 0
            )

    def get_expiry(self, key: str) -> float:
        with self.engine.connect() as c:
            at = c.scalar(
                text(
                    "SELECT extract(epoch FROM expires_at)"
                    " FROM rate_limit_counters WHERE key = :key"
                ),
                {"key": key},
            )
        return float(at) if at is not None else time.time()

    def check(self) -> bool:
        try:
            with self.engine.connect() as c:
                return c.scalar(text("SELECT 1")) == 1
        except SQLAlchemyError:
            return False

    def reset(self) -> int | None:
        with self.engine.begin() as c:
            hits = c.execute(text("DELETE FROM rate_limit_hits")).rowcount
            counters = c.execute(text("DELETE FROM rate_limit_counters")).rowcount
        return hits + counters

    def clear(self, key: str) -> None:
        with self.engine.begin() as c:
            c.execute(text("DELETE FROM rate_limit_hits WHERE key = :key"), {"key": key})
            c.execute(text("DELETE FROM rate_limit_counters WHERE key = :key"), {"key": key})

    def purge_expired(self) -> int:
        """Entries and counters past their window (keys never hit again leave them behind)."""
        with self.engine.begin() as c:
            hits = c.execute(
                text("DELETE FROM rate_limit_hits WHERE expires_at <= clock_timestamp()")
            ).rowcount
            counters = c.execute(
                text("DELETE FROM rate_limit_counters WHERE expires_at <= clock_timestamp()")
            ).rowcount
        return hits + counters


class Throttle:
    """Named limits ("5/minute;20/hour") over one storage, for one kind of thing counted.

    `hit` counts one attempt and refuses it when any of the limits is spent; `check` refuses
    without counting (a sign-in is checked first and counted only when it fails); `clear`
    forgets an identity's attempts (a right password ends the guesser's count for that pair).
    """

    def __init__(self, storage: PostgresStorage, namespace: str, limits: str) -> None:
        self.namespace = namespace
        self.items: list[RateLimitItem] = parse_many(limits)
        self.limiter = MovingWindowRateLimiter(storage)

    def hit(self, *identity: str, what: str = "requests") -> None:
        for item in self.items:
            if not self.limiter.hit(item, self.namespace, *identity):
                raise self._refusal(item, identity, what)

    def check(self, *identity: str, what: str = "attempts") -> None:
        """Refuse when any limit is spent, saying the longest wait (windows grow: a minute's,
        then ten minutes', then an hour's)."""
        spent = [
            item for item in self.items if not self.limiter.test(item, self.namespace, *identity)
        ]
        if spent:
            raise max(
                (self._refusal(item, identity, what) for item in spent),
                key=lambda refusal: refusal.extra["retry_after_s"],
            )

    def clear(self, *identity: str) -> None:
        for item in self.items:
            self.limiter.clear(item, self.namespace, *identity)

    def wait_s(self, item: RateLimitItem, identity: Iterable[str]) -> int:
        reset_at, _ = self.limiter.get_window_stats(item, self.namespace, *identity)
        return max(1, math.ceil(reset_at - time.time()))

    def _refusal(self, item: RateLimitItem, identity: tuple[str, ...], what: str):
        wait = self.wait_s(item, identity)
        return TooManyRequests(
            f"at most {item.amount} {what} per {_period(item)}; try again in {wait} s",
            extra={"retry_after_s": wait},
        )


def _period(item: RateLimitItem) -> str:
    unit = item.GRANULARITY.name
    return unit if item.multiples == 1 else f"{item.multiples} {unit}s"
