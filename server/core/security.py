"""The browser's safety headers on every answer: pages, API, problems and static files.

The dashboard loads everything from itself (front-end libraries are served by the app), so the
Content-Security-Policy allows only 'self', plus each page's own inline scripts by a per-request
nonce; MapLibre starts its workers from blob: URLs and draws images from data: and blob: URLs.
No page may be framed (frame-ancestors, and X-Frame-Options for older browsers), nothing is
sniffed into another type, and no URL leaks to other sites in a Referer. A view that sets its
own policy keeps it: evidence files are served with a sandbox (server.evidence.files).

Over TLS (directly, or behind TRUSTED_PROXIES reverse proxies that say so in X-Forwarded-Proto)
the session cookie is Secure and browsers are told to keep to HTTPS (HSTS).
"""

from __future__ import annotations

import secrets

from flask import Flask, Response, g, request
from flask.sessions import SecureCookieSessionInterface

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def csp_nonce() -> str:
    """This request's script nonce; templates write it as `nonce="{{ csp_nonce() }}"`."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def content_security_policy(nonce: str) -> str:
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            "style-src 'self'",
            "img-src 'self' data: blob:",
            "worker-src 'self' blob:",
            "child-src 'self' blob:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


class TlsAwareSessions(SecureCookieSessionInterface):
    """The session cookie is Secure when the request came over TLS, or PUBLIC_URL is https
    (SESSION_COOKIE_SECURE): never sent in clear once the park has TLS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or request.is_secure)


def _add_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", content_security_policy(csp_nonce()))
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


def register(app: Flask) -> None:
    app.session_interface = TlsAwareSessions()
    app.after_request(_add_headers)
    app.context_processor(lambda: {"csp_nonce": csp_nonce})
