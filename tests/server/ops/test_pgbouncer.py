"""The app through PgBouncer in transaction mode (deploy/pgbouncer/pgbouncer.ini as shipped, with
its paths and ports): `rangersync serve` with two worker processes, each pooling more
connections than PgBouncer has server connections, fills a park with simulated handhelds (pushes,
photo uploads, pulls) and serves the dashboard's reads, while PostgreSQL sees at most the pool."""

from __future__ import annotations

import configparser
import os
import pwd
import shutil
import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from server.core.pgcluster import Cluster, free_port
from server.demo.seed import DEMO_PASSWORD
from sync.device.simulate import run_fleet
from tests.server.ops.helpers import Installation, open_dir

pytestmark = pytest.mark.slow
SAMPLE = Path(__file__).resolve().parents[3] / "deploy" / "pgbouncer" / "pgbouncer.ini"
POOL = 3


def _pgbouncer_config(root: Path, cluster: Cluster, port: int, password: str) -> Path:
    config = configparser.ConfigParser(comment_prefixes=(";", "#"), interpolation=None)
    config.read(SAMPLE)
    config["databases"]["rangersync"] = f"host=127.0.0.1 port={cluster.port} dbname=rangersync"
    bouncer = config["pgbouncer"]
    assert bouncer["pool_mode"] == "transaction"  # what the shipped file promises
    bouncer.update(
        {
            "listen_port": str(port),
            "auth_file": str(root / "userlist.txt"),
            "default_pool_size": str(POOL),
            "reserve_pool_size": "0",
            "unix_socket_dir": "",
            "logfile": str(root / "pgbouncer.log"),
            "pidfile": str(root / "pgbouncer.pid"),
        }
    )
    (root / "userlist.txt").write_text(f'"rangersync" "{password}"\n')
    path = root / "pgbouncer.ini"
    with open(path, "w") as f:
        config.write(f)
    if os.geteuid() == 0:  # PgBouncer refuses to run as root, like PostgreSQL
        entry = pwd.getpwnam("postgres")
        for file in (root, path, root / "userlist.txt"):
            os.chown(file, entry.pw_uid, entry.pw_gid)
    return path


def _wait_port(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 20
    while True:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(
                "pgbouncer did not start:\n" + (log.read_text() if log.exists() else "")
            )
        time.sleep(0.1)


def test_the_app_runs_through_pgbouncer_in_transaction_mode(tmp_path):
    root = open_dir("rangersync-pgbouncer-")
    cluster = Cluster(root / "pg", free_port())
    bouncer_root = root / "pgbouncer"
    bouncer_root.mkdir()
    process = server = None
    try:
        cluster.start()
        cluster.ensure_database("rangersync")
        direct = cluster.url("rangersync")
        password = make_url(direct).password
        with psycopg.connect(direct.replace("+psycopg", ""), autocommit=True) as conn:
            conn.execute("ALTER DATABASE rangersync SET timezone TO 'UTC'")
            conn.execute("ALTER DATABASE rangersync SET jit TO off")
        port = free_port()
        ini = _pgbouncer_config(bouncer_root, cluster, port, password)
        command = [shutil.which("pgbouncer") or "/usr/sbin/pgbouncer", str(ini)]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        _wait_port(port, process, bouncer_root / "pgbouncer.log")

        pooled = direct.replace(f":{cluster.port}/", f":{port}/")
        park = Installation(root / "app")
        park.root.mkdir()
        park.extra_env = {"DATABASE_URL": direct}
        park.rangersync("db", "upgrade")  # DDL goes to PostgreSQL directly, as documented
        park.extra_env = {"DATABASE_URL": pooled, "DATABASE_POOL_MODE": "transaction"}
        server = park.serve()

        result = run_fleet(
            server.url,
            password=DEMO_PASSWORD,
            devices=3,
            hours=0.5,
            photo_rate=1.0,
            workdir=open_dir("rangersync-pgbouncer-fleet-"),
            say=lambda _: None,
        )
        assert result.complete, result

        status, token = server.http.json(
            "POST", "/api/v1/auth/token", {"username": "manager", "password": DEMO_PASSWORD}
        )
        assert status == 201
        paths = [
            "/api/v1/areas/demo/patrols",
            "/api/v1/areas/demo/effort?by=ranger",
            "/api/v1/areas/demo/reports",
            "/api/v1/areas/demo/devices/health?stale_hours=24",
        ] * 10
        with ThreadPoolExecutor(12) as pool:  # more at once than PgBouncer has connections
            statuses = list(
                pool.map(lambda p: server.http("GET", p, token=token["access_token"])[0], paths)
            )
        assert statuses == [200] * len(paths)

        admin = f"host=127.0.0.1 port={port} dbname=pgbouncer user=rangersync password={password}"
        with psycopg.connect(admin, autocommit=True) as conn:
            cur = conn.cursor()
            cur.execute("SHOW POOLS")
            columns = [c.name for c in cur.description]
            pools = [dict(zip(columns, row, strict=True)) for row in cur.fetchall()]
            cur.execute("SHOW STATS")
            columns = [c.name for c in cur.description]
            stats = [dict(zip(columns, row, strict=True)) for row in cur.fetchall()]
        ours = next(p for p in pools if p["database"] == "rangersync")
        servers = ours["sv_active"] + ours["sv_idle"] + ours["sv_used"] + ours["sv_tested"]
        assert servers <= POOL
        transactions = next(s for s in stats if s["database"] == "rangersync")["total_xact_count"]
        print(
            f"pgbouncer: {result.sent} records and {result.photos_uploaded} photos synced, "
            f"{len(paths)} concurrent reads, {transactions} transactions over {servers} server "
            f"connections (pool {POOL})"
        )
        assert transactions > 100
    finally:
        if server is not None:
            server.stop()
        if process is not None:
            process.terminate()
            process.wait(timeout=10)
        cluster.destroy()
        shutil.rmtree(root, ignore_errors=True)
