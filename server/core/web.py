"""Request plumbing shared by the blueprints: the request's database session and its actor.

Who a token names is not core's business: the app factory registers one authenticator per token
prefix (accounts' user tokens, devices' device tokens); core holds only the registry."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Flask, current_app, g, request, session
from sqlalchemy.orm import Session

from server.core.attempts import Attempts
from server.core.db import limit_statements
from server.core.errors import Unauthenticated
from server.core.policy import Actor
from server.core.tokens import digest

T = TypeVar("T")
# The token's actor. It may also record the request (a device's last_seen_at) in the session:
# that is committed in a small unit of work of its own, before the view's.
Authenticator = Callable[[Session, str], Actor]
AUTHENTICATORS = "rangersync.authenticators"
ATTEMPTS = "rangersync.attempts"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# A cookie-authenticated request that changes state must carry this header: a form on another
# site cannot set it, so this closes cross-site request forgery for the dashboard.
CSRF_HEADER = "X-Requested-With"
DISCONNECTS = "rangersync.disconnects"  # a server.core.disconnect.DisconnectWatch


def db() -> Session:
    if "db" not in g:
        g.db = current_app.extensions["rangersync"].session_factory()
    return g.db


def read_db() -> Session:
    """The session of a read-only view (dashboard, analytics, tiles, layer reads, exports): the
    hot standby when one is configured and fit to answer (server/ops/replica.py), else the
    request's own session. Never for authentication, sync, or anything that writes.

    Its statements run at most READ_TIMEOUT_S each: a read nobody bounded (a coverage grid of a
    whole country) is stopped by PostgreSQL, and answered 503, instead of holding a worker."""
    if "read_db" not in g:
        state = current_app.extensions["rangersync"]
        route = current_app.extensions.get("rangersync.read_session")
        session_ = (route() if route else None) or db()
        if state.config.read_timeout_s > 0:
            limit_statements(session_, state.config.read_timeout_s)
        g.read_db = session_
        _cancel_when_client_leaves(session_)
    return g.read_db


def _cancel_when_client_leaves(session_: Session) -> None:
    watch = current_app.extensions.get(DISCONNECTS)
    sock = request.environ.get("gunicorn.socket")
    if watch is None or sock is None:
        return
    g.disconnect_key = watch.watch_session(sock, session_)


def commit(result: T) -> T:
    """Commit the request's unit of work, before the response is written, and pass `result` on."""
    db().commit()
    return result


def close_session(_exc: BaseException | None = None) -> None:
    if (key := g.pop("disconnect_key", None)) is not None:
        current_app.extensions[DISCONNECTS].forget(key)
    for name in ("read_db", "db"):  # the same session when the primary answered reads
        session_ = g.pop(name, None)
        if session_ is not None:
            session_.close()  # rolls back anything not committed


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def register_authenticator(app: Flask, prefix: str, authenticate: Authenticator) -> None:
    """Tokens starting with `prefix` are authenticated by `authenticate`."""
    app.extensions.setdefault(AUTHENTICATORS, {})[prefix] = authenticate


def current_actor() -> Actor:
    """The caller, from a bearer token (API, devices) or the dashboard's session cookie."""
    if "actor" in g:
        return g.actor
    token = bearer_token()
    from_cookie = token is None
    if from_cookie:
        token = session.get("token")
        if token and request.method not in SAFE_METHODS and CSRF_HEADER not in request.headers:
            raise Unauthenticated(f"a signed-in browser must send the {CSRF_HEADER} header")
    if not token:
        raise Unauthenticated("sign in, or send an access token as 'Authorization: Bearer …'")
    actor = _authenticator(token)(db(), token)
    if db().dirty:
        db().commit()  # what the authenticator recorded, in its own small unit of work
    g.actor = actor
    return actor


def _authenticator(token: str) -> Authenticator:
    authenticators: dict[str, Authenticator] = current_app.extensions.get(AUTHENTICATORS, {})
    authenticate = next(
        (fn for prefix, fn in authenticators.items() if token.startswith(prefix)), None
    )
    if authenticate is None:
        raise Unauthenticated("unknown access token")
    return authenticate


def current_credential() -> tuple[str, Callable[[Session], Actor]]:
    """For work that outlives its request (a live stream): a stable key of the request's token
    (its digest), and a re-check of it that raises, as current_actor() would, once the token is
    revoked or expired, the device revoked or its user disabled. Call after current_actor()."""
    token = bearer_token() or session.get("token")
    if not token:
        raise Unauthenticated("sign in, or send an access token as 'Authorization: Bearer …'")
    authenticate = _authenticator(token)

    def recheck(session_: Session) -> Actor:
        return authenticate(session_, token)

    return digest(token).hex(), recheck


def attempts(kind: str) -> Attempts:
    """The throttle of failed attempts of `kind` (sign-in, enrolment, sos-text), per process
    in name only: its counts are in the database every process shares."""
    return current_app.extensions[ATTEMPTS][kind]


def source_address() -> str:
    """Where the request came from: the client's address (behind TRUSTED_PROXIES reverse
    proxies, the one they saw; ProxyFix is installed by the app factory)."""
    return request.remote_addr or "unknown"
