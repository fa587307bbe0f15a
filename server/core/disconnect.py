"""Queries of clients that have gone: a read view's query is cancelled in PostgreSQL when its
client hangs up, instead of running on (for minutes, on a coverage grid too fine) for nobody.

The read views register their request's socket (gunicorn puts it in the WSGI environ) and their
database connection; one thread per worker process looks at every registered socket each second,
without reading from it (MSG_PEEK), and a socket at end-of-file means the client closed its side:
the connection's running statement is cancelled (libpq's cancel request, safe from another
thread). The view then fails with QueryCanceled, answered to nobody. Without gunicorn (tests'
in-process client) there is no socket, and nothing is watched.
"""

from __future__ import annotations

import itertools
import logging
import socket
import threading
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, SessionTransaction

log = logging.getLogger(__name__)
EVERY_S = 1.0
WATCHED = "rangersync.disconnect"  # session.info: (the watch, the key) of the request's session


def client_gone(sock: socket.socket) -> bool:
    """The client closed its side (end-of-file), without taking a byte it may have sent."""
    try:
        return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except (BlockingIOError, InterruptedError):
        return False  # open, nothing sent: still waiting for its answer
    except OSError:
        return True  # reset, or closed under us


class DisconnectWatch:
    def __init__(self, every_s: float = EVERY_S) -> None:
        self.every_s = every_s
        self._watched: dict[int, tuple[socket.socket, Any]] = {}
        self._keys = itertools.count()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def watch_session(self, sock: socket.socket, session: Session) -> int:
        """Cancel the statement `session` is running if `sock`'s client leaves. The connection
        is the one of the session's current transaction: between transactions it is back in
        the pool, maybe another request's, and never cancelled. Answers the key to forget."""
        key = self.watch(sock, None)
        session.info[WATCHED] = (self, key)
        if session.in_transaction():
            self.rebind(key, session.connection().connection.dbapi_connection)
        return key

    def rebind(self, key: int, connection: Any) -> None:
        with self._lock:
            if key in self._watched:
                self._watched[key] = (self._watched[key][0], connection)

    def watch(self, sock: socket.socket, connection: Any) -> int:
        """Cancel `connection`'s statement (a psycopg connection, or None for none yet) if
        `sock`'s client leaves; answers the key to forget it by once the request is over."""
        with self._lock:
            key = next(self._keys)
            self._watched[key] = (sock, connection)
            if self._thread is None:  # started in the worker process, after gunicorn's fork
                self._thread = threading.Thread(target=self._run, name="disconnects", daemon=True)
                self._thread.start()
        return key

    def forget(self, key: int) -> None:
        with self._lock:
            self._watched.pop(key, None)

    def _run(self) -> None:
        while True:
            threading.Event().wait(self.every_s)
            with self._lock:
                watched = list(self._watched.items())
            for key, (sock, connection) in watched:
                if connection is not None and client_gone(sock):
                    self.forget(key)
                    self._cancel(connection)

    @staticmethod
    def _cancel(connection: Any) -> None:
        log.info("client gone: cancelling its query")
        try:
            cancel = getattr(connection, "cancel_safe", None)
            if cancel is not None:
                cancel(timeout=5.0)
            else:
                connection.cancel()
        except Exception:  # the query may have ended meanwhile; never kill the watch
            log.exception("could not cancel the query of a client that left")


@event.listens_for(Session, "after_begin")
def _bind(session: Session, _transaction: SessionTransaction, connection: Connection) -> None:
    if watched := session.info.get(WATCHED):
        watch, key = watched
        watch.rebind(key, connection.connection.dbapi_connection)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _unbind(session: Session) -> None:
    if watched := session.info.get(WATCHED):
        watch, key = watched
        watch.rebind(key, None)
