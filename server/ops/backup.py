"""Backups that restore: the database with pgBackRest (full and incremental backups, continuous WAL
archiving, retention, point-in-time recovery), the evidence and map files beside it.

Why the files need no snapshot to be consistent with the database: evidence is content-addressed
(evidence/sha256/aa/bb/<sha256>) and written before the transaction that marks it stored commits,
and never changed after. So the database at any time T refers only to files that existed at T, and
any copy of the files taken at T or later holds them all. The file backup only ever adds: a file is
copied once, checked against its name's hash on the way. Map packages live in version folders
that are written whole and then renamed into place (basemaps are content-addressed too); they are
copied when new or changed. A restore to T takes the database at T and every backed-up file; files
newer than T are harmless extras, and `verify_restore` checks every file the database refers to.

The repository (BACKUP_DIR) is laid out as:
    pgbackrest/             pgBackRest's repository (stanza "rangersync")
    files/evidence/…        evidence, same layout as EVIDENCE_DIR (uploads in progress excluded)
    files/maps/…            map packages and basemaps, same layout as MAPS_DIR
    files/secrets/          the embedded cluster's password and the app's secret key (0600)
    status.json             when the last backup and file copy finished (for metrics and alerts)
It holds the whole database and these secrets: protect it as you would the database.
"""

from __future__ import annotations

import hashlib
import json
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

STANZA = "rangersync"
BACKUP_TYPES = ("full", "diff", "incr")
EVIDENCE_SKIP = {"partial"}  # uploads still arriving: not evidence yet


class BackupError(RuntimeError):
    """A backup or restore step failed; the message says which and what pgBackRest said."""


@dataclass(frozen=True)
class Database:
    """The PostgreSQL cluster to back up: reached by URL, its files on this machine."""

    url: str
    data_dir: Path
    port: int
    user: str
    password: str
    os_user: str  # the system user owning the data directory: pgBackRest must run as it

    @classmethod
    def from_url(cls, url: str) -> Database:
        parsed = make_url(url)
        with psycopg.connect(_libpq(url), autocommit=True) as conn:
            data_dir = Path(conn.execute("SHOW data_directory").fetchone()[0])
            port = int(conn.execute("SHOW port").fetchone()[0])
        if not data_dir.is_dir():
            raise BackupError(
                f"the database's files ({data_dir}) are not on this machine: "
                "run backups on the database server"
            )
        return cls(
            url,
            data_dir,
            port,
            parsed.username or "postgres",
            parsed.password or "",
            pwd.getpwuid(data_dir.stat().st_uid).pw_name,
        )


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@dataclass(frozen=True)
class Repository:
    """Where backups go (BACKUP_DIR) and the local pgBackRest settings that point at it."""

    root: Path
    work_dir: Path  # local: pgBackRest's config, lock and log files
    retention_full: int = 2

    @property
    def config_file(self) -> Path:
        return self.work_dir / "pgbackrest.conf"

    @property
    def files(self) -> Path:
        return self.root / "files"

    @property
    def status_file(self) -> Path:
        return self.root / "status.json"

    def archive_command(self) -> str:
        return f"pgbackrest --config={self.config_file} --stanza={STANZA} archive-push %p"

    def write_config(self, database: Database) -> None:
        """pgBackRest's settings for this database; written on every run (they are derived)."""
        for folder in (self.root, self.root / "pgbackrest", self.work_dir):
            _make_dir_for(folder, database.os_user)
        settings = {
            "global": {
                "repo1-path": self.root / "pgbackrest",
                "repo1-retention-full": self.retention_full,
                "start-fast": "y",  # checkpoint at once instead of waiting for the next
                "compress-type": "lz4",
                "log-path": self.work_dir,
                "lock-path": self.work_dir,
                "log-level-console": "warn",
                "log-level-file": "info",
            },
            STANZA: {
                "pg1-path": database.data_dir,
                "pg1-port": database.port,
                "pg1-user": database.user,
            },
        }
        text = "".join(
            f"[{section}]\n" + "".join(f"{k}={v}\n" for k, v in values.items())
            for section, values in settings.items()
        )
        self.config_file.write_text(text)
        _give_to(self.config_file, database.os_user)


def _make_dir_for(folder: Path, os_user: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    _give_to(folder, os_user)


def _give_to(path: Path, os_user: str) -> None:
    if os.geteuid() == 0:
        entry = pwd.getpwnam(os_user)
        os.chown(path, entry.pw_uid, entry.pw_gid)


def pgbackrest(
    repo: Repository, os_user: str, *args: str, password: str = "", config: Path | None = None
) -> str:
    """Run pgBackRest as the database's system user, reaching the server over TCP on 127.0.0.1
    (libpq reads PGHOST and PGPASSWORD: pgBackRest names neither unless told to)."""
    command = ["pgbackrest", f"--config={config or repo.config_file}", f"--stanza={STANZA}", *args]
    if os.geteuid() == 0 and os_user != "root":
        command = ["runuser", "-u", os_user, "--", *command]
    env = os.environ | {"PGHOST": "127.0.0.1", "PGPASSWORD": password}
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        raise BackupError(
            f"pgbackrest {args[0]} failed ({result.returncode}):\n"
            f"{result.stdout}{result.stderr}".rstrip()
        )
    return result.stdout


# --- setting up and taking backups -----------------------------------------------------------


def archiving_settings(repo: Repository) -> dict[str, str]:
    return {
        "archive_mode": "on",
        "archive_command": repo.archive_command(),
        "wal_level": "replica",
        # A quiet park still ships its last writes within a minute: the bound on what a lost
        # disk can take with it (an idle server switches no segment: nothing to ship).
        "archive_timeout": "60s",
    }


def configure_archiving(database: Database, repo: Repository) -> bool:
    """Point the server's WAL archiving at the repository. True if a restart is needed for it."""
    wanted = archiving_settings(repo)
    with psycopg.connect(_libpq(database.url), autocommit=True) as conn:
        current = {
            name: conn.execute(f"SHOW {name}").fetchone()[0]  # names are ours, not input
            for name in wanted
        }
        for name, value in wanted.items():
            conn.execute(f"ALTER SYSTEM SET {name} = {_literal(value)}")
        conn.execute("SELECT pg_reload_conf()")
    return current["archive_mode"] != "on" or current["wal_level"] not in ("replica", "logical")


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def create_stanza(database: Database, repo: Repository) -> None:
    """Make (or confirm) the repository's stanza and check that WAL reaches it."""
    repo.write_config(database)
    pgbackrest(repo, database.os_user, "stanza-create", password=database.password)
    pgbackrest(repo, database.os_user, "check", password=database.password)


def run_backup(
    database: Database,
    repo: Repository,
    kind: str,
    *,
    evidence_dir: Path,
    maps_dir: Path,
    var_dir: Path,
) -> dict:
    """A pgBackRest backup of `kind` (an incremental one becomes full if there is none yet),
    then the files; the status file records both."""
    if kind not in BACKUP_TYPES:
        raise BackupError(f"backup type must be one of {', '.join(BACKUP_TYPES)}")
    repo.write_config(database)
    pgbackrest(repo, database.os_user, f"--type={kind}", "backup", password=database.password)
    latest = latest_backup(repo, database)
    copied = backup_files(repo, evidence_dir, maps_dir, var_dir)
    _update_status(repo, backup=latest)
    return {"backup": latest, "files": copied}


def backup_info(repo: Repository, database: Database) -> list[dict]:
    repo.write_config(database)
    out = pgbackrest(repo, database.os_user, "--output=json", "info", password=database.password)
    stanzas = json.loads(out)
    return stanzas[0]["backup"] if stanzas else []


def latest_backup(repo: Repository, database: Database) -> dict:
    newest = backup_info(repo, database)[-1]
    return {
        "label": newest["label"],
        "type": newest["type"],
        "started": _iso(newest["timestamp"]["start"]),
        "finished": _iso(newest["timestamp"]["stop"]),
        "bytes": newest["info"]["size"],
        "repo_bytes": newest["info"]["repository"]["delta"],
    }


def _iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()


def backup_files(repo: Repository, evidence_dir: Path, maps_dir: Path, var_dir: Path) -> dict:
    """Copy new evidence and map files into the repository (never deleting); a blob whose bytes
    no longer match its name is not copied and is reported: that is damage to look into."""
    evidence = _copy_tree(evidence_dir, repo.files / "evidence", EVIDENCE_SKIP, _check_blob)
    maps = _copy_tree(maps_dir, repo.files / "maps", set(), None, changed=True)
    secrets_dir = repo.files / "secrets"
    secrets_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    secrets = {"pg-password": var_dir / "pg" / "password", "secret_key": var_dir / "secret_key"}
    for name, source in secrets.items():
        if source.exists():
            _copy_private(source, secrets_dir / name)
    result = {"evidence": evidence, "maps": maps}
    _update_status(repo, files=result)
    return result


def _check_blob(relative: Path, source: Path) -> str | None:
    """Content-addressed blobs are checked on the way in; other files (thumbnails) are not."""
    if relative.parts[0] != "sha256":
        return None
    digest = sha256_of(source)
    return None if digest == relative.name else f"{relative}: content hashes to {digest}"


def _copy_tree(
    source: Path,
    target: Path,
    skip: set[str],
    check: Callable[[Path, Path], str | None] | None,
    changed: bool = False,
) -> dict:
    copied = present = 0
    damaged: list[str] = []
    if not source.is_dir():
        return {"copied": 0, "present": 0, "damaged": []}
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if relative.parts[0] in skip or any(p.startswith(".") for p in relative.parts):
            continue  # uploads in progress, map packages being built
        if not path.is_file():
            continue
        dest = target / relative
        if dest.exists() and not (changed and _differs(path, dest)):
            present += 1
            continue
        problem = check(relative, path) if check else None
        if problem:
            damaged.append(problem)
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        partial = dest.with_name(f".{dest.name}.partial")
        shutil.copy2(path, partial)
        os.replace(partial, dest)
        copied += 1
    return {"copied": copied, "present": present, "damaged": damaged}


def _differs(a: Path, b: Path) -> bool:
    sa, sb = a.stat(), b.stat()
    return sa.st_size != sb.st_size or int(sa.st_mtime) != int(sb.st_mtime)


def _copy_private(source: Path, target: Path) -> None:
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(source.read_text())


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _update_status(repo: Repository, **parts: object) -> None:
    status = read_status(repo.root)
    now = datetime.now(UTC).isoformat()
    for name, value in parts.items():
        status[name] = {"at": now, "result": value}
    partial = repo.status_file.with_suffix(".partial")
    partial.write_text(json.dumps(status, indent=2, default=str))
    os.replace(partial, repo.status_file)


def read_status(backup_dir: Path) -> dict:
    path = backup_dir / "status.json"
    return json.loads(path.read_text()) if path.exists() else {}


# --- restoring ---------------------------------------------------------------------------------


def restore(
    backup_dir: Path,
    into: Path,
    target_time: datetime | None,
    os_user: str,
    say: Callable[[str], None] = print,
) -> Path:
    """Restore the database (to `target_time`, or to the end of the archived WAL) and every
    backed-up file into `into`, laid out as a RangerSync var folder: into/pg/data, into/pg/password,
    into/evidence, into/maps, into/secret_key. Archiving is off in the copy, so a drill never
    writes into the repository; returns the data directory."""
    if into.exists() and any(into.iterdir()):
        raise BackupError(f"{into} is not empty: restore into a new folder")
    pg_root, data_dir = into / "pg", into / "pg" / "data"
    work = into / "pgbackrest-restore"
    for folder in (into, pg_root, work):
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o755)  # the database's user passes through; its own folder stays 0700
    _give_to(work, os_user)
    data_dir.mkdir(mode=0o700)
    _give_to(data_dir, os_user)
    repo = Repository(backup_dir, work)
    conf = work / "pgbackrest.conf"
    conf.write_text(
        f"[global]\nrepo1-path={backup_dir / 'pgbackrest'}\nlog-path={work}\nlock-path={work}\n"
        f"log-level-console=warn\nlog-level-file=info\n[{STANZA}]\npg1-path={data_dir}\n"
    )
    _give_to(conf, os_user)
    args = ["--archive-mode=off"]
    if target_time is not None:
        when = target_time.astimezone(UTC).isoformat(sep=" ")
        args += ["--type=time", f"--target={when}", "--target-action=promote"]
    say(f"rangersync: restoring the database{' to ' + when if target_time else ''} into {data_dir}")
    pgbackrest(repo, os_user, *args, "restore", config=conf)
    secrets_dir = backup_dir / "files" / "secrets"
    if (secrets_dir / "pg-password").exists():
        _copy_private(secrets_dir / "pg-password", pg_root / "password")
    if (secrets_dir / "secret_key").exists():
        _copy_private(secrets_dir / "secret_key", into / "secret_key")
    for name in ("evidence", "maps"):
        source = backup_dir / "files" / name
        if source.is_dir():
            shutil.copytree(source, into / name, dirs_exist_ok=True)
            say(f"rangersync: {name} files restored into {into / name}")
    return data_dir


def restore_os_user() -> str:
    """PostgreSQL refuses root: as root, the restored cluster belongs to Debian's postgres user."""
    return "postgres" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name


def temporary_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="rangersync-restore-"))
