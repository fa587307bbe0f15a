"""`rangersync backup …`: set up WAL archiving, take backups, copy the files, restore to a time."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import click
from sqlalchemy.orm import Session

from server.config import Config
from server.core import pgcluster
from server.core.cli import CliContext, prepare_database
from server.core.db import make_engine
from server.ops import backup as backups
from server.ops.verify import verify_restore


def _repository(config: Config) -> backups.Repository:
    return backups.Repository(
        config.backup_dir, config.var_dir / "pgbackrest", config.backup_retention_full
    )


def _database(config: Config) -> backups.Database:
    try:
        return backups.Database.from_url(prepare_database(config))
    except backups.BackupError as error:
        raise click.ClickException(str(error)) from error


def _iso_time(_ctx, _param, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 time") from None
    if when.tzinfo is None:  # a time without a zone is ambiguous: refuse rather than guess
        raise click.BadParameter("give the time with its offset, e.g. 2026-11-29T14:05:00+03:00")
    return when


@click.group()
def backup() -> None:
    """Backups of the database (pgBackRest) and the evidence and map files; restores."""


@backup.command("init")
@click.pass_obj
def backup_init(cli: CliContext) -> None:
    """Archive WAL into BACKUP_DIR and create the pgBackRest stanza (once; safe to repeat).

    The embedded cluster is restarted if archiving was off; another server must be restarted
    by its owner, then this run again."""
    config = cli.config
    database, repo = _database(config), _repository(config)
    repo.write_config(database)
    if backups.configure_archiving(database, repo):
        if config.database_url:
            raise click.ClickException(
                "archiving is configured but needs a PostgreSQL restart: restart the server, "
                "then run `rangersync backup init` again"
            )
        click.echo("rangersync: restarting the embedded database to turn archiving on", err=True)
        cluster = pgcluster.embedded(config.var_dir, config.pg_port)
        cluster.stop()
        cluster.start()
    try:
        backups.create_stanza(database, repo)
    except backups.BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"rangersync: WAL is archived into {repo.root / 'pgbackrest'}")


@backup.command("run")
@click.option(
    "--type",
    "kind",
    type=click.Choice(backups.BACKUP_TYPES),
    default="incr",
    show_default=True,
    help="incr and diff become full when there is no full backup yet",
)
@click.pass_obj
def backup_run(cli: CliContext, kind: str) -> None:
    """Back up the database, then copy new evidence and map files (for cron or a timer)."""
    config = cli.config
    database = _database(config)
    try:
        result = backups.run_backup(
            database,
            _repository(config),
            kind,
            evidence_dir=config.evidence_dir,
            maps_dir=config.maps_dir,
            var_dir=config.var_dir,
        )
    except backups.BackupError as error:
        raise click.ClickException(str(error)) from error
    done = result["backup"]
    click.echo(
        f"rangersync: {done['type']} backup {done['label']} ({done['bytes']} bytes of database, "
        f"{done['repo_bytes']} stored)"
    )
    _say_files(result["files"])


@backup.command("files")
@click.pass_obj
def backup_files(cli: CliContext) -> None:
    """Copy new evidence and map files only: cheap, run it every few minutes."""
    config = cli.config
    copied = backups.backup_files(
        _repository(config), config.evidence_dir, config.maps_dir, config.var_dir
    )
    _say_files(copied)


def _say_files(copied: dict) -> None:
    for name, counts in copied.items():
        click.echo(
            f"rangersync: {name} files: {counts['copied']} copied, {counts['present']} already "
            f"backed up, {len(counts['damaged'])} damaged"
        )
        for problem in counts["damaged"]:
            click.echo(f"  damaged (not backed up): {problem}", err=True)
    if any(counts["damaged"] for counts in copied.values()):
        raise click.ClickException("some evidence files do not match their SHA-256: see above")


@backup.command("info")
@click.pass_obj
def backup_info(cli: CliContext) -> None:
    """The backups in the repository, and when the last backup and file copy finished."""
    config = cli.config
    for item in backups.backup_info(_repository(config), _database(config)):
        click.echo(
            f"{item['label']}  {item['type']:<4}  "
            f"{datetime.fromtimestamp(item['timestamp']['stop']).astimezone():%Y-%m-%d %H:%M %Z}"
            f"  {item['info']['size']} bytes"
        )
    click.echo(json.dumps(backups.read_status(config.backup_dir), indent=2))


@backup.command("restore")
@click.option(
    "--target-time",
    callback=_iso_time,
    default=None,
    help="ISO 8601 time with offset; default: everything archived",
)
@click.option(
    "--into",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="a new folder: it becomes a RangerSync var folder (RANGERSYNC_VAR_DIR)",
)
@click.option(
    "--from",
    "source",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    help="the backup repository (default: BACKUP_DIR)",
)
@click.option("--port", type=int, default=None, help="port to check the restored copy on")
@click.pass_obj
def backup_restore(
    cli: CliContext, target_time: datetime | None, into: Path, source: Path | None, port: int | None
) -> None:
    """Restore the database to TARGET_TIME and all files into INTO, start it, check it, stop it.

    Then serve it with RANGERSYNC_VAR_DIR=INTO (and RANGERSYNC_PG_PORT)."""
    config = cli.config
    into = into.resolve()
    try:
        backups.restore(
            (source or config.backup_dir).resolve(),
            into,
            target_time,
            backups.restore_os_user(),
            say=click.echo,
        )
    except backups.BackupError as error:
        raise click.ClickException(str(error)) from error
    cluster = pgcluster.embedded(into, port or pgcluster.free_port())
    try:
        cluster.start()
        cluster.wait_until_primary()
        engine = make_engine(cluster.url())
        try:
            with Session(engine) as session:
                check = verify_restore(session, into / "evidence")
        finally:
            engine.dispose()
    except pgcluster.ClusterError as error:
        hint = ""
        if "recovery ended before configured recovery target" in str(error):
            hint = (
                "\nNo transaction after the target time has reached the archive yet: choose an "
                "earlier time, or leave --target-time out to restore everything archived."
            )
        raise click.ClickException(f"{error}{hint}") from error
    finally:
        cluster.stop()
    for line in check.lines():
        click.echo(f"rangersync: {line}")
    if not check.ok:
        raise click.ClickException("the restored copy failed its checks: see above")
    click.echo(
        f"rangersync: restored and checked; serve it with RANGERSYNC_VAR_DIR={into} "
        "(or start it with `rangersync db url` under that variable)"
    )


commands = [backup]
