"""Where a request's server time goes, when SERVER_TIMING_LOG names a file: SQL round trips and
their time (SQLAlchemy cursor events), the rest of the request (Python), and the time a push
waited for the push gate. Answered in a W3C `Server-Timing` header and appended to the file as
one JSON line per request, which bench/storm.py reads. Off by default: the cursor events cost a
little on every statement.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

GATE_WAIT = "rangersync.gate_wait_s"  # set in the WSGI environ by the push gate


@dataclass
class Counters:
    round_trips: int = 0
    sql_s: float = 0.0
    started: list[float] = field(default_factory=list)


_current: ContextVar[Counters | None] = ContextVar("rangersync_timing", default=None)


def watch(engine: Engine) -> None:
    """Count this engine's statements, commits and rollbacks into the current request's tally."""

    def before(conn, cursor, statement, parameters, context, executemany) -> None:
        if (counters := _current.get()) is not None:
            counters.started.append(time.perf_counter())

    def after(conn, cursor, statement, parameters, context, executemany) -> None:
        if (counters := _current.get()) is not None and counters.started:
            counters.round_trips += 1
            counters.sql_s += time.perf_counter() - counters.started.pop()

    def ending(conn) -> None:  # COMMIT or ROLLBACK: one more round trip, timed to its end
        if (counters := _current.get()) is not None:
            counters.round_trips += 1
            counters.started.append(time.perf_counter())

    def ended(session, *args) -> None:
        if (counters := _current.get()) is not None and counters.started:
            counters.sql_s += time.perf_counter() - counters.started.pop()

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    event.listen(engine, "commit", ending)
    event.listen(engine, "rollback", ending)
    event.listen(Session, "after_commit", ended)
    event.listen(Session, "after_rollback", ended)


class ServerTiming:
    """WSGI middleware: tallies each request and reports it (header and JSON line)."""

    def __init__(self, app: Callable, log_path: Path) -> None:
        self.app = app
        self.log_path = log_path

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        counters = Counters()
        token = _current.set(counters)
        began = time.perf_counter()

        def timed_start_response(status: str, headers: list, exc_info=None):
            total = time.perf_counter() - began
            gate = environ.get(GATE_WAIT, 0.0)
            headers.append(
                (
                    "Server-Timing",
                    f'sql;dur={counters.sql_s * 1000:.2f};desc="{counters.round_trips} round trips"'
                    f", py;dur={(total - counters.sql_s) * 1000:.2f}"
                    f", gate;dur={gate * 1000:.2f}, total;dur={total * 1000:.2f}",
                )
            )
            self._log(environ, status, counters, total, gate)
            return start_response(status, headers, exc_info)

        try:
            return self.app(environ, timed_start_response)
        finally:
            _current.reset(token)

    def _log(self, environ: dict, status: str, counters: Counters, total: float, gate: float):
        line = json.dumps(
            {
                "method": environ.get("REQUEST_METHOD"),
                "path": environ.get("PATH_INFO"),
                "status": int(status.split(" ", 1)[0]),
                "round_trips": counters.round_trips,
                "sql_ms": round(counters.sql_s * 1000, 3),
                "py_ms": round((total - counters.sql_s) * 1000, 3),
                "gate_ms": round(gate * 1000, 3),
                "total_ms": round(total * 1000, 3),
            }
        )
        # One write of a short line to a file opened for appending: lines from several
        # processes do not interleave.
        fd = os.open(self.log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, (line + "\n").encode())
        finally:
            os.close(fd)
