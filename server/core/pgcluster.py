"""The embedded PostGIS cluster RangerSync runs for itself under var/, and throwaway ones for tests.

PostgreSQL refuses to run as root, so when we are root the cluster runs as the unprivileged
`postgres` system user that Debian's package creates; as a normal user it simply runs as that user.
The cluster listens on 127.0.0.1 only, with a generated password (scram-sha-256).
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psycopg

SUPERUSER = "rangersync"
SERVICE_USER = "postgres"
PG_MAJOR = 15


class ClusterError(RuntimeError):
    """The embedded cluster could not be set up or started; the message says why and what to do."""


def find_bindir() -> Path:
    """PostgreSQL's server programs: PG_BINDIR if set, else Debian's location for our major."""
    candidates = [os.environ.get("PG_BINDIR", ""), f"/usr/lib/postgresql/{PG_MAJOR}/bin"]
    candidates += sorted(str(p) for p in Path("/usr/lib/postgresql").glob("*/bin"))[::-1]
    for candidate in candidates:
        if candidate and (Path(candidate) / "pg_ctl").exists():
            return Path(candidate)
    raise ClusterError(
        "PostgreSQL server programs not found; run `make run` or `deploy/bootstrap-system.sh` "
        "to install postgresql-15 and postgis, or set DATABASE_URL to an existing PostGIS database"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Cluster:
    """A PostgreSQL cluster whose files live under `root` (root/data), started and stopped by us."""

    root: Path
    port: int
    unsafe_fast: bool = False  # fsync off: for throwaway test clusters only

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "server.log"

    @property
    def _password_file(self) -> Path:
        return self.root / "password"

    @property
    def os_user(self) -> str | None:
        """The system user the server runs as: None means ourselves."""
        return SERVICE_USER if os.geteuid() == 0 else None

    def url(self, database: str = "rangersync") -> str:
        password = quote(self._password_file.read_text().strip(), safe="")
        return f"postgresql+psycopg://{SUPERUSER}:{password}@127.0.0.1:{self.port}/{database}"

    def _conninfo(self, database: str = "postgres") -> str:
        return self.url(database).replace("postgresql+psycopg://", "postgresql://")

    def _run(
        self, *argv: str, check: bool = True, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        command = [str(find_bindir() / argv[0]), *argv[1:]]
        if self.os_user:
            command = ["runuser", "-u", self.os_user, "--", *command]
        result = subprocess.run(
            command, capture_output=True, text=True, check=False, env=os.environ | (env or {})
        )
        if check and result.returncode != 0:
            raise ClusterError(
                f"{argv[0]} failed ({result.returncode}):\n{result.stdout}{result.stderr}".rstrip()
                + (f"\nserver log: {self.log_file}" if argv[0] == "pg_ctl" else "")
            )
        return result

    def is_initialised(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def init(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if self.os_user:
            self.root.chmod(0o755)  # the server's user must pass through; secrets stay 0600
        self.data_dir.mkdir(mode=0o700, exist_ok=True)
        if not self._password_file.exists():
            fd = os.open(self._password_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_urlsafe(24) + "\n")
        pwfile = self.data_dir.parent / ".initdb-pw"
        pwfile.write_text(self._password_file.read_text())
        if self.os_user:
            entry = pwd.getpwnam(self.os_user)
            os.chown(self.data_dir, entry.pw_uid, entry.pw_gid)
            os.chown(pwfile, entry.pw_uid, entry.pw_gid)
            self._check_reachable_by(self.os_user)
        try:
            self._run(
                "initdb",
                "--pgdata",
                str(self.data_dir),
                "--username",
                SUPERUSER,
                "--pwfile",
                str(pwfile),
                "--auth-host=scram-sha-256",
                "--auth-local=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
            )
        finally:
            pwfile.unlink(missing_ok=True)
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": "''",  # TCP only: no socket path length or ownership trouble
            "timezone": "'UTC'",
            "max_connections": "100",
            "shared_buffers": "'256MB'",
            "jit": "off",  # JIT costs more than it saves on our short geospatial queries
        }
        if self.unsafe_fast:
            settings |= {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
        conf = "".join(f"{k} = {v}\n" for k, v in settings.items())
        self._run("pg_ctl", "--version")  # fail early and clearly if the binaries vanished
        with open(self.data_dir / "postgresql.auto.conf", "a") as f:
            f.write("# set by rangersync\n" + conf)

    def init_standby_of(self, primary: Cluster) -> None:
        """Make this cluster a streaming-replication hot standby of `primary`: a base backup
        taken over the replication protocol (pg_basebackup -R writes standby.signal and the
        primary's connection settings), the same password. Start it with start()."""
        if self.is_initialised():
            raise ClusterError(f"{self.data_dir} already holds a cluster")
        self.root.mkdir(parents=True, exist_ok=True)
        if self.os_user:
            self.root.chmod(0o755)
        shutil.copy2(primary._password_file, self._password_file)
        self.data_dir.mkdir(mode=0o700, exist_ok=True)
        if self.os_user:
            entry = pwd.getpwnam(self.os_user)
            os.chown(self.data_dir, entry.pw_uid, entry.pw_gid)
        self._run(
            "pg_basebackup",
            "--host=127.0.0.1",
            f"--port={primary.port}",
            f"--username={SUPERUSER}",
            f"--pgdata={self.data_dir}",
            "--write-recovery-conf",
            "--wal-method=stream",
            "--checkpoint=fast",
            "--no-password",
            env={"PGPASSWORD": self._password_file.read_text().strip()},
        )

    def replication_lag_bytes(self) -> int | None:
        """On a standby: WAL received but not yet replayed (None on a primary)."""
        with psycopg.connect(self._conninfo(), connect_timeout=5) as conn:
            return conn.execute(
                "SELECT pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())"
            ).fetchone()[0]

    def _check_reachable_by(self, user: str) -> None:
        probe = subprocess.run(
            ["runuser", "-u", user, "--", "test", "-w", str(self.data_dir)], check=False
        )
        if probe.returncode != 0:
            raise ClusterError(
                f"the database runs as the system user {user!r}, which cannot reach "
                f"{self.data_dir}: "
                "a parent folder is closed to other users (for example /root). Clone the project "
                "under a folder others may traverse, set RANGERSYNC_VAR_DIR to one, or set "
                "DATABASE_URL to an existing PostGIS database."
            )

    def is_running(self) -> bool:
        if not self.is_initialised():
            return False
        return (
            self._run("pg_ctl", "status", "--pgdata", str(self.data_dir), check=False).returncode
            == 0
        )

    def start(self) -> None:
        if not self.is_initialised():
            self.init()
        if self.is_running():
            return
        if _port_taken(self.port):
            raise ClusterError(
                f"port {self.port} on 127.0.0.1 is taken by another program; "
                "set RANGERSYNC_PG_PORT "
                "to a free port for the embedded database"
            )
        self._run(
            "pg_ctl",
            "start",
            "--pgdata",
            str(self.data_dir),
            "--log",
            str(self.log_file),
            "--wait",
            "--timeout=60",
            "-o",
            f"-p {self.port}",
        )
        self._wait_accepting()

    def _wait_accepting(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with psycopg.connect(self._conninfo(), connect_timeout=2):
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                if not self.is_running():  # it stopped (a failed recovery, say): say why
                    raise ClusterError(f"the server stopped: {self.log_tail()}") from None
                time.sleep(0.1)

    def log_tail(self, lines: int = 3) -> str:
        if not self.log_file.exists():
            return "(no server log)"
        return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])

    def wait_until_primary(self, timeout: float = 300.0) -> None:
        """After a point-in-time restore: wait for recovery to reach its target and promote."""
        deadline = time.monotonic() + timeout
        while True:
            with psycopg.connect(self._conninfo(), connect_timeout=5) as conn:
                if not conn.execute("SELECT pg_is_in_recovery()").fetchone()[0]:
                    return
            if time.monotonic() > deadline:
                raise ClusterError(f"still recovering after {timeout:.0f} s: see {self.log_file}")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.is_running():
            self._run("pg_ctl", "stop", "--pgdata", str(self.data_dir), "--mode=fast", "--wait")

    def ensure_database(self, name: str) -> None:
        with psycopg.connect(self._conninfo(), autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
            ).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')

    def create_database_from(self, name: str, template: str) -> None:
        with psycopg.connect(self._conninfo(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')

    def drop_database(self, name: str) -> None:
        with psycopg.connect(self._conninfo(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def _port_taken(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def embedded(var_dir: Path, port: int) -> Cluster:
    """The cluster `make run` uses when DATABASE_URL is not set."""
    return Cluster(var_dir / "pg", port)
