"""Read-only work on a hot standby (DATABASE_REPLICA_URL), with the primary always there to fall
back to.

Which requests: the views that call `server.core.web.read_db()` (dashboard pages, analytics,
tiles, layer reads, exports); never sign-in checks, sync, or anything that writes. When: the
standby answers, its replay lag is within REPLICA_MAX_LAG_S, and it has replayed this client's own
last write. That last part is read-your-writes without shared state: every successful write
answers with a cookie holding the primary's WAL position after it (rs_lsn), and a read carrying
it goes to the standby only once the standby has replayed that far. A standby that fails is left
alone for a few seconds, and reads go to the primary meanwhile.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass

from flask import Flask, Response, current_app, g, request
from prometheus_client import Counter
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from server.config import Config
from server.core.db import make_engine, make_session_factory

log = logging.getLogger(__name__)
LSN_COOKIE = "rs_lsn"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
RECHECK_S = 1.0  # the standby's state is looked up at most this often per process
DOWN_FOR_S = 5.0  # after a failure, the standby is left alone this long

READS = Counter(
    "rangersync_db_reads_total",
    "Read-only requests by the database that served them and why",
    ["target", "reason"],
)

_STATE = """
SELECT pg_is_in_recovery() AS standby,
       pg_last_wal_replay_lsn()::text AS replayed,
       EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming') AS streaming,
       pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() AS caught_up,
       extract(epoch FROM now() - pg_last_xact_replay_timestamp()) AS since_replay
"""


def lsn_value(lsn: str) -> int:
    high, _, low = lsn.partition("/")
    return (int(high, 16) << 32) | int(low, 16)


@dataclass(frozen=True)
class StandbyState:
    lag_s: float  # 0 when streaming and everything received is replayed
    replayed: int  # WAL position replayed (0 if unknown)
    checked_at: float


class ReadRouting:
    def __init__(self, primary: sessionmaker, replica: Engine, max_lag_s: float) -> None:
        self.primary = primary
        self.replica_engine = replica
        self.replica = make_session_factory(replica)
        self.max_lag_s = max_lag_s
        self._state: StandbyState | None = None
        self._down_until = 0.0
        self._lock = threading.Lock()

    def session(self, min_lsn: str | None) -> tuple[Session | None, str]:
        """(a standby session, "ok"), or (None, why the primary must answer)."""
        state = self.state()
        if state is None:
            return None, "replica-down"
        if state.lag_s > self.max_lag_s:
            return None, "replica-lagging"
        if min_lsn and _parse(min_lsn) > state.replayed:
            return None, "own-write-not-replayed"
        session = self.replica()
        try:
            session.connection()  # connect now, so a standby that just died still falls back
        except OperationalError:
            session.close()
            self._mark_down()
            return None, "replica-down"
        return session, "ok"

    def state(self) -> StandbyState | None:
        now = time.monotonic()
        with self._lock:
            if now < self._down_until:
                return None
            if self._state and now - self._state.checked_at < RECHECK_S:
                return self._state
        try:
            with self.replica_engine.connect() as conn:
                row = conn.execute(text(_STATE)).one()
        except OperationalError as error:
            log.warning("read replica unreachable, reading from the primary: %s", error.orig)
            self._mark_down()
            return None
        if not row.standby:
            lag = 0.0  # promoted: it is a primary now, and knows of no lag
        elif row.streaming and row.caught_up:
            lag = 0.0
        else:  # not streaming, or replay behind: as old as its last replayed transaction
            lag = math.inf if row.since_replay is None else float(row.since_replay)
        state = StandbyState(lag, _parse(row.replayed) if row.replayed else 0, now)
        with self._lock:
            self._state = state
        return state

    def _mark_down(self) -> None:
        with self._lock:
            self._state = None
            self._down_until = time.monotonic() + DOWN_FOR_S

    def primary_lsn(self) -> str:
        with self.primary() as session:
            return session.scalar(text("SELECT pg_current_wal_lsn()::text"))


def _parse(lsn: str) -> int:
    try:
        return lsn_value(lsn)
    except ValueError:
        return 0  # a cookie we did not write: no claim to honour


def install(app: Flask, config: Config, primary: sessionmaker) -> None:
    """With DATABASE_REPLICA_URL set: route read_db() and mark each write's position."""
    if not config.database_replica_url:
        return
    url = config.database_replica_url
    url += ("&" if "?" in url else "?") + "connect_timeout=3"  # a dead host: fail fast, fall back
    pooled = config.database_pool_mode == "transaction"
    routing = ReadRouting(
        primary, make_engine(url, transaction_pooling=pooled), config.replica_max_lag_s
    )
    app.extensions["rangersync.reads"] = routing
    app.extensions["rangersync.read_session"] = read_session
    app.after_request(_remember_write)


def read_session() -> Session | None:
    """server.core.web.read_db() calls this (app.extensions["rangersync.read_session"]);
    None: the request's own primary session answers."""
    routing: ReadRouting = current_app.extensions["rangersync.reads"]
    session, reason = routing.session(request.cookies.get(LSN_COOKIE))
    target = "primary" if session is None else "replica"
    READS.labels(target, reason).inc()
    g.database = target  # in the access log line
    return session


def _remember_write(response: Response) -> Response:
    if request.method in SAFE_METHODS or response.status_code >= 400:
        return response
    routing: ReadRouting = current_app.extensions["rangersync.reads"]
    try:
        lsn = routing.primary_lsn()
    except OperationalError:
        return response
    response.set_cookie(
        LSN_COOKIE, lsn, max_age=600, httponly=True, samesite="Strict", secure=request.is_secure
    )
    return response
