"""A read replica for real: a primary and a streaming-replication hot standby started by the test,
`rangersync serve` configured with both (DATABASE_REPLICA_URL). Read-only work is served by the
standby; a client's own write is read back from wherever has it; a standby that falls behind the
lag bound, or dies, leaves the reads to the primary, and nothing fails."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from server.core.pgcluster import Cluster, free_port
from server.demo.seed import DEMO_PASSWORD
from tests.server.ops.helpers import Installation, open_dir

pytestmark = pytest.mark.slow
MAX_LAG_S = 3


@pytest.fixture
def pair() -> Iterator[tuple[Installation, Cluster]]:
    root = open_dir("rangersync-replica-")
    park = Installation(root / "primary")
    park.root.mkdir()
    park.root.chmod(0o755)
    standby = Cluster(root / "standby", free_port())
    try:
        park.rangersync("db", "upgrade")  # starts the primary
        standby.init_standby_of(park.cluster)
        standby.start()
        park.extra_env = {
            "DATABASE_REPLICA_URL": standby.url("rangersync"),
            "REPLICA_MAX_LAG_S": str(MAX_LAG_S),
        }
        park.server = park.serve()
        yield park, standby
    finally:
        if getattr(park, "server", None):
            park.server.stop()
        standby.destroy()
        park.destroy()


class Browser:
    """Requests with a request id each, and cookies kept as a browser keeps them."""

    def __init__(self, park: Installation, token: str) -> None:
        self.park, self.token, self.cookies = park, token, {}

    def __call__(self, method: str, path: str, body=None, cookies: bool = True):
        request_id = f"replica-{uuid.uuid4().hex}"
        headers = {"Authorization": f"Bearer {self.token}", "X-Request-ID": request_id}
        if cookies and self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data = None
        if body is not None:
            data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
        request = urllib.request.Request(  # noqa: S310 (loopback)
            self.park.server.url + path, data=data, method=method, headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310
                status, raw, answer = response.status, response.read(), response.headers
        except urllib.error.HTTPError as error:
            status, raw, answer = error.code, error.read(), error.headers
        for header in answer.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name] = rest.split(";")[0]
        return status, (json.loads(raw) if raw and raw[:1] in b"[{" else raw), request_id

    def served_by(self, request_id: str) -> str:
        for line in self.park.server.log.read_text().splitlines():
            if line.startswith("{") and request_id in line:
                entry = json.loads(line)
                if entry.get("logger") == "rangersync.access":
                    return entry["database"]
        raise AssertionError(f"no access log line for {request_id}")


def _sign_in(park: Installation) -> str:
    status, body = park.server.http.json(
        "POST", "/api/v1/auth/token", {"username": "manager", "password": DEMO_PASSWORD}
    )
    assert status == 201
    return body["access_token"]


def _plan(name: str) -> dict:
    return {"name": name, "starts_on": "2026-12-01", "ends_on": "2026-12-31", "target_hours": 40}


def _replay(standby: Cluster, sql: str) -> None:
    with psycopg.connect(standby.url("postgres").replace("+psycopg", ""), autocommit=True) as c:
        c.execute(sql)


def _wait_caught_up(standby: Cluster, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while standby.replication_lag_bytes() != 0:
        assert time.monotonic() < deadline
        time.sleep(0.1)


READS = [
    "/api/v1/areas/demo/plans",
    "/api/v1/areas/demo/effort?by=ranger",
    "/api/v1/areas/demo/coverage?start=2026-11-01&end=2026-11-30",
    "/api/v1/areas/demo/devices/health?stale_hours=24",
    "/api/v1/areas/demo/map-overview",
    "/api/v1/areas/demo/reports?format=csv",
    "/tiles/boundary/8/154/129.mvt",
]


def test_reads_go_to_the_standby_own_writes_are_read_back_and_a_dead_standby_is_survived(pair):
    park, standby = pair
    browser = Browser(park, _sign_in(park))

    # Read-only work is served by the standby.
    for path in READS:
        status, _, rid = browser("GET", path)
        assert status in (200, 204), path
        assert browser.served_by(rid) == "replica", path

    # A write goes to the primary; with replay paused, the writer's own read comes from the
    # primary (the standby has not replayed it), and it sees the write.
    _replay(standby, "SELECT pg_wal_replay_pause()")
    status, created, rid = browser("POST", "/api/v1/areas/demo/plans", _plan("December north"))
    assert status == 201 and "rs_lsn" in browser.cookies
    status, plans, rid = browser("GET", "/api/v1/areas/demo/plans")
    assert status == 200 and browser.served_by(rid) == "primary"
    assert created["id"] in [p["id"] for p in plans]

    # Someone else (no cookie) may read from the standby while it is within the lag bound; once
    # it has been behind longer than REPLICA_MAX_LAG_S, everyone reads from the primary.
    time.sleep(MAX_LAG_S + 1.5)
    status, plans, rid = browser("GET", "/api/v1/areas/demo/plans", cookies=False)
    assert status == 200 and browser.served_by(rid) == "primary"
    assert created["id"] in [p["id"] for p in plans]

    # Replay resumes: the standby has the write and serves the writer again.
    _replay(standby, "SELECT pg_wal_replay_resume()")
    _wait_caught_up(standby)
    time.sleep(1.2)  # the routing looks at the standby at most once a second
    status, plans, rid = browser("GET", "/api/v1/areas/demo/plans")
    assert status == 200 and browser.served_by(rid) == "replica"
    assert created["id"] in [p["id"] for p in plans]

    # The standby dies: every read still answers, from the primary.
    standby._run("pg_ctl", "stop", "--pgdata", str(standby.data_dir), "--mode=immediate")
    for path in READS:
        status, _, rid = browser("GET", path)
        assert status in (200, 204), path
        assert browser.served_by(rid) == "primary", path
    assert park.server.http("GET", "/readyz")[0] == 200
    print(
        f"replica test: {len(READS)} read endpoints served by the standby; own write read back "
        "from the primary while replay was paused; lag bound honoured; all reads from the "
        "primary after the standby was killed"
    )
