"""What the benchmarks share: a throwaway PostGIS cluster migrated to head, and `rangersync
serve` on it as `make run` starts it (gunicorn), answering before the measuring begins."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from server.core.migrate import upgrade
from server.core.pgcluster import Cluster, free_port


@contextmanager
def database(name: str = "bench", prefix: str = "rangersync-bench-") -> Iterator[tuple[Path, str]]:
    """(a scratch folder, the URL of a migrated database in a cluster of its own)."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    cluster = Cluster(root, free_port())
    cluster.start()
    try:
        cluster.ensure_database(name)
        url = cluster.url(name)
        upgrade(url)
        yield root, url
    finally:
        cluster.destroy()


@contextmanager
def served(url: str, root: Path, workers: int = 2, **env: str) -> Iterator[str]:
    """The base URL of `rangersync serve --no-demo` on `url`, ready (/readyz) when yielded."""
    with served_process(url, root, workers, **env) as (base, _pid):
        yield base


@contextmanager
def served_process(url: str, root: Path, workers: int = 2, **env: str) -> Iterator[tuple[str, int]]:
    """As `served`, with the process id of gunicorn's master (its workers are its children)."""
    port = free_port()
    env = (
        os.environ
        | {
            "DATABASE_URL": url,
            "PORT": str(port),
            "WEB_CONCURRENCY": str(workers),
            "RANGERSYNC_VAR_DIR": str(root / "var"),
            "LOG_LEVEL": "WARNING",
        }
        | env
    )
    server = subprocess.Popen(
        [Path(sys.executable).parent / "rangersync", "serve", "--no-demo"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(base + "/readyz", timeout=2)  # noqa: S310 (loopback)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("rangersync serve did not become ready") from None
                time.sleep(0.2)
        yield base, server.pid
    finally:
        server.terminate()
        server.wait(timeout=30)
