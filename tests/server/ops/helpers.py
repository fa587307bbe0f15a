"""A park installed the way `make run` installs it (embedded cluster under its own var folder),
run by the real `rangersync` command, for the operations tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from server.core.pgcluster import Cluster, free_port
from tests.live import BIN, Http, LiveServer


def open_dir(prefix: str) -> Path:
    """A temporary folder the database's system user may pass through (it runs as postgres)."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o755)
    return path


@dataclass
class Installation:
    root: Path
    pg_port: int = field(default_factory=free_port)
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def var_dir(self) -> Path:
        return self.root / "var"

    @property
    def backup_dir(self) -> Path:
        return self.root / "backups"

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        return (
            env
            | {
                "RANGERSYNC_VAR_DIR": str(self.var_dir),
                "RANGERSYNC_PG_PORT": str(self.pg_port),
                "BACKUP_DIR": str(self.backup_dir),
                "SECRET_KEY": "ops-test",
            }
            | self.extra_env
        )

    @property
    def cluster(self) -> Cluster:
        return Cluster(self.var_dir / "pg", self.pg_port)

    def rangersync(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [BIN / "rangersync", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"rangersync {' '.join(args)} failed ({result.returncode}):\n"
                f"{result.stdout}{result.stderr}"
            )
        return result

    def serve(self, timeout: float = 90.0, workers: int = 2) -> LiveServer:
        port = free_port()
        env = self.env | {"PORT": str(port), "WEB_CONCURRENCY": str(workers)}
        log = self.root / f"serve-{port}.log"
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
            time.sleep(0.3)

    def destroy(self) -> None:
        self.cluster.stop()
        shutil.rmtree(self.root, ignore_errors=True)
