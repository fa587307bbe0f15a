"""A real RangerSync server process for tests where the network matters: `rangersync serve`
(gunicorn) on a free port, over its own database in the test cluster, with the demo park."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
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

    @property
    def url(self) -> str:
        return self.http.base

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)


def start(
    cluster: Cluster,
    workdir: Path,
    timeout: float = 60.0,
    extra_env: dict[str, str] | None = None,
    database: str = DATABASE,
) -> LiveServer:
    cluster.drop_database(database)
    cluster.ensure_database(database)
    port = free_port()
    env = (
        os.environ
        | (extra_env or {})
        | {
            "DATABASE_URL": cluster.url(database),
            "RANGERSYNC_VAR_DIR": str(workdir / "var"),
            "PORT": str(port),
            "WEB_CONCURRENCY": "2",
        }
    )
    log = workdir / "serve.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            [BIN / "rangersync", "serve"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    server = LiveServer(Http(f"http://127.0.0.1:{port}"), env, log, process)
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
