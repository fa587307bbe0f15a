"""Rate limits are one budget however many processes serve them: two live servers (two gunicorn
workers each) over the same database count a partner key's requests, and failed sign-ins,
against the same windows."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import pytest

from tests import live
from tests.live import BIN


@pytest.fixture
def two_servers(live_servers):
    first = live_servers.start("shared_limit")
    workdir = Path(tempfile.mkdtemp(prefix="shared_limit_b-", dir=live_servers.workdir))
    second = live.start(live_servers.cluster, first.database, workdir)
    yield first, second
    second.stop()
    live_servers.stop(first)


def test_four_worker_processes_share_one_partner_key_budget(two_servers):
    first, second = two_servers
    issued = subprocess.run(
        [
            BIN / "rangersync",
            "partner",
            "key",
            "issue",
            "--area",
            "demo",
            "--org",
            "Shared",
            "--rate-limit",
            "12/hour",
        ],
        env=first.env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert issued.returncode == 0, issued.stderr
    key = issued.stdout.strip().splitlines()[-1]
    statuses = []
    for i in range(40):  # alternate the servers; each spreads its requests over its 2 workers
        server = (first, second)[i % 2]
        status, headers, _ = server.http("GET", f"/ogc/conformance?key={key}")
        statuses.append(status)
        if status == 429:
            assert int(headers["Retry-After"]) > 0
    assert statuses.count(200) == 12, statuses  # not 12 per process: 48 with four of them
    assert statuses[:12] == [200] * 12 and set(statuses[12:]) == {429}


def test_failed_sign_ins_count_across_every_process(two_servers):
    first, second = two_servers
    statuses = []
    for i in range(12):
        server = (first, second)[i % 2]
        body = {"username": "manager", "password": f"guess-{i}"}
        statuses.append(server.http.json("POST", "/api/v1/auth/token", body)[0])
    assert statuses[:5] == [401] * 5 and set(statuses[5:]) == {429}, statuses
    for server in (first, second):
        right = {"username": "manager", "password": "mweusi-demo-2026"}
        assert server.http.json("POST", "/api/v1/auth/token", right)[0] == 429
