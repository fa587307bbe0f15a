"""A read whose client hangs up is cancelled in PostgreSQL, not left running for nobody: a coverage
summary of a country-sized park (minutes of work), asked over a real gunicorn server, stops once
the client closes its socket."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

import psycopg
import pytest
from shapely.geometry import box

from server.accounts.service import create_user
from server.areas.service import create_area
from server.core.db import make_engine, make_session_factory
from server.core.policy import SYSTEM

PASSWORD = "mweusi-demo-2026"
GRID_QUERY = "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE %s"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(live_servers):
    # no statement_timeout to speak of: only the client leaving may stop the query
    server = live_servers.start("client-gone", {"READ_TIMEOUT_S": "3600"})
    yield server
    live_servers.stop(server)


def _running(sql) -> int:
    return sql.execute(GRID_QUERY, ("%ST_SquareGrid%",)).fetchone()[0]


def _eventually(check, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.5)
    return False


def test_the_query_of_a_client_that_left_is_cancelled(server):
    engine = make_engine(server.env["DATABASE_URL"])
    with make_session_factory(engine)() as session:
        continent = create_area(  # 20° × 20° at 500 m cells: some 19 million cells to count
            session, SYSTEM, slug="continent", name="Continent", boundary=box(20, -20, 40, 0)
        )
        create_user(
            session,
            SYSTEM,
            area_id=continent.id,
            username="continental",
            password=PASSWORD,
            role="manager",
        )
        session.commit()
    engine.dispose()
    status, signed_in = server.http.json(
        "POST", "/api/v1/auth/token", {"username": "continental", "password": PASSWORD}
    )
    assert status == 201, signed_in
    where = urlsplit(server.url)
    client = socket.create_connection((where.hostname, where.port), timeout=10)
    client.sendall(
        b"GET /api/v1/areas/continent/coverage?start=2026-11-01&end=2026-11-02 HTTP/1.1\r\n"
        b"Host: x\r\nAuthorization: Bearer " + signed_in["access_token"].encode() + b"\r\n\r\n"
    )
    with psycopg.connect(
        server.env["DATABASE_URL"].replace("+psycopg", ""), autocommit=True
    ) as sql:
        assert _eventually(lambda: _running(sql) > 0, 30), "the query never started"

        client.close()  # the manager closed the tab

        assert _eventually(lambda: _running(sql) == 0, 30), "the query ran on for nobody"
