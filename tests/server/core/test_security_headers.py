"""Every answer carries the browser's safety headers: the dashboard cannot be framed over its
buttons, runs only its own scripts, and nothing is sniffed into something it is not."""

from __future__ import annotations

import dataclasses
import re

import pytest

from server.app import create_app
from tests import factories
from tests.server.analytics.helpers import sign_in

COMMON = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def _assert_safe(response) -> str:
    for name, value in COMMON.items():
        assert response.headers.get(name) == value, (name, response.headers)
    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy
    return policy


@pytest.mark.parametrize("path", ["/", "/api/v1/me", "/api/openapi.json", "/nowhere", "/health"])
def test_pages_api_answers_and_problems_carry_the_headers(client, path):
    _assert_safe(client.get(path))


def test_a_dashboard_page_runs_only_its_own_scripts(client, db):
    park = factories.area(db)
    manager = factories.user(db, park.id, "manager")
    db.commit()
    sign_in(client, manager)
    page = client.get(f"/areas/{park.slug}/review")
    policy = _assert_safe(page)
    (nonce,) = re.findall(r"script-src 'self' 'nonce-([A-Za-z0-9_-]+)'", policy)
    html = page.get_data(as_text=True)
    scripts = re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)([^>]*)>", html)
    assert scripts and all(f'nonce="{nonce}"' in attributes for attributes in scripts)
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    assert client.get(f"/areas/{park.slug}/review").headers["Content-Security-Policy"] != policy


def _session_cookie(answer) -> str:
    (cookie,) = [c for c in answer.headers.getlist("Set-Cookie") if c.startswith("session=")]
    return cookie


def _login(client, user, **kwargs):
    form = {"username": user.username, "password": factories.PASSWORD}
    answer = client.post("/login", data=form, **kwargs)
    assert answer.status_code == 302
    return _session_cookie(answer)


def test_the_session_cookie_is_secure_over_tls_and_only_then(client, db):
    park = factories.area(db)
    manager = factories.user(db, park.id, "manager")
    db.commit()
    assert "Secure" not in _login(client, manager)
    tls = _login(client, manager, base_url="https://rangers.example")
    assert "Secure" in tls and "HttpOnly" in tls
    # a client cannot make itself look like TLS when no proxy is trusted
    faked = _login(client, manager, headers={"X-Forwarded-Proto": "https"})
    assert "Secure" not in faked


def test_behind_a_trusted_proxy_its_word_on_tls_counts(app, test_config, engine, db):
    proxied = create_app(dataclasses.replace(test_config, trusted_proxies=1), engine=engine)
    # its requests inside this test's transaction, as the `app` fixture's are
    proxied.extensions["rangersync"].session_factory = app.extensions["rangersync"].session_factory
    park = factories.area(db)
    manager = factories.user(db, park.id, "manager")
    db.commit()
    client = proxied.test_client()
    forwarded = _login(client, manager, headers={"X-Forwarded-Proto": "https"})
    assert "Secure" in forwarded
    answer = client.get("/health", headers={"X-Forwarded-Proto": "https"})
    assert answer.headers["Strict-Transport-Security"].startswith("max-age=")
