"""A real RangerSync server process for tests where the network matters: `rangersync serve`
(gunicorn) on a free port, over its own database in the test cluster: a copy of the demo park."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from server.core.pgcluster import Cluster, free_port

BIN = Path(sys.executable).parent
DATABASE = "rangersync_live"


class Http:
    """A tiny HTTP client on the standard library, so tests see exactly what goes over the wire."""

    def __init__(self, base: str) -> None:
        self.base = base

    def __call__(self, method: str, path: str, body=None, token: str | None = None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)  # noqa: S310
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (loopback)
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read()

    def json(self, method: str, path: str, body=None, token=None):
        status, _, raw = self(method, path, body, token)
        return status, (json.loads(raw) if raw else None)


@dataclass
class LiveServer:
    http: Http
    env: dict[str, str]
    log: Path
    process: subprocess.Popen
    database: str = ""  # the cluster database it serves, when the fixtures made it

    @property
    def url(self) -> str:
        return self.http.base

    def stop(self) -> None:
        # SIGINT is gunicorn's quick shutdown: a test is over, so nothing waits for the requests
        # still open (a dashboard's live stream would hold a graceful SIGTERM for 20 s).
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start(
    cluster: Cluster,
    database: str,
    workdir: Path,
    timeout: float = 120.0,
    extra_env: dict[str, str] | None = None,
) -> LiveServer:
    """`rangersync serve` over an existing database of the cluster; back once /readyz says so."""
    port = free_port()
    env = (
        os.environ
        | {"WEB_CONCURRENCY": "2"}
        | (extra_env or {})
        | {
            "DATABASE_URL": cluster.url(database),
            "RANGERSYNC_VAR_DIR": str(workdir / "var"),
            "PORT": str(port),
        }
    )
    log = workdir / "serve.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            [BIN / "rangersync", "serve"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    server = LiveServer(Http(f"http://127.0.0.1:{port}"), env, log, process, database)
    deadline = time.monotonic() + timeout
    while True:
        try:
            if server.http("GET", "/readyz")[0] == 200:
                return server
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("the server did not become ready:\n" + log.read_text())
        time.sleep(0.2)


@dataclass
class Servers:
    """Starts servers, each over its own copy of a template database (the demo park, migrated and
    seeded once per test process), so a server is ready in the time gunicorn takes to boot; and
    stops what it started."""

    cluster: Cluster
    template: str
    workdir: Path
    running: list[LiveServer] = field(default_factory=list)

    def start(self, name: str, extra_env: dict[str, str] | None = None) -> LiveServer:
        database = f"{DATABASE}_{name}"
        self.cluster.drop_database(database)
        self.cluster.create_database_from(database, self.template)
        workdir = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=self.workdir))
        server = start(self.cluster, database, workdir, extra_env=extra_env)
        self.running.append(server)
        return server

    def stop(self, server: LiveServer) -> None:
        server.stop()
        self.running.remove(server)
        self.cluster.drop_database(server.database)

    def stop_all(self) -> None:
        for server in list(self.running):
            self.stop(server)
