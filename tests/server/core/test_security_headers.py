"""Every answer carries the browser's safety headers: the dashboard cannot be framed over its
buttons, runs only its own scripts, and nothing is sniffed into something it is not."""

from __future__ import annotations

import re

import pytest

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
