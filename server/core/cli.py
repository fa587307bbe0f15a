"""What every command is handed (click's context object: the config, the database, a unit of
work) and the foundation's commands: `rangersync db …` and `rangersync audit verify`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlalchemy.orm import Session

from server.config import Config
from server.core import pgcluster
from server.core.audit import verify_chain
from server.core.db import make_engine, make_session_factory
from server.core.errors import DomainError
from server.core.migrate import downgrade, upgrade

DATABASE_NAME = "rangersync"


class CliContext:
    """Handed to every command as click's context object (`@click.pass_obj`). The config is read
    from the environment when a command first asks for it."""

    def __init__(self, config: Config | None = None) -> None:
        self._config = config
        self._database_url: str | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = Config.from_env()
        return self._config

    def database_url(self) -> str:
        """The database URL in use; with no DATABASE_URL, the embedded cluster is started first."""
        if self._database_url is None:
            self._database_url = prepare_database(self.config)
        return self._database_url

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """A session for one command, committed if the command succeeds; a domain error becomes
        the command's error message."""
        engine = make_engine(self.database_url())
        session: Session = make_session_factory(engine)()
        try:
            yield session
            session.commit()
        except DomainError as error:
            session.rollback()
            raise click.ClickException(error.detail + _field_errors(error)) from error
        finally:
            session.close()
            engine.dispose()


def prepare_database(config: Config) -> str:
    """The database URL in use; with no DATABASE_URL, the embedded cluster is started first."""
    if config.database_url:
        return config.database_url
    cluster = pgcluster.embedded(config.var_dir, config.pg_port)
    if not cluster.is_running():
        click.echo(f"rangersync: starting the embedded PostGIS cluster in {cluster.root}", err=True)
    try:
        cluster.start()
        cluster.ensure_database(DATABASE_NAME)
    except pgcluster.ClusterError as error:
        raise click.ClickException(str(error)) from error
    return cluster.url(DATABASE_NAME)


def _field_errors(error: DomainError) -> str:
    return "".join(
        f"\n  {field}: {'; '.join(map(str, msgs))}" for field, msgs in error.errors.items()
    )


# --- database -----------------------------------------------------------------------------------


@click.group()
def db() -> None:
    """The database: URL, migrations, the embedded cluster."""


@db.command("url")
@click.pass_obj
def db_url(cli: CliContext) -> None:
    """Print the database URL in use (starting the embedded cluster if that is the one)."""
    click.echo(cli.database_url())


@db.command("upgrade")
@click.argument("revision", default="head")
@click.pass_obj
def db_upgrade(cli: CliContext, revision: str) -> None:
    """Apply migrations up to REVISION (default: head)."""
    upgrade(cli.database_url(), revision)
    click.echo(f"rangersync: database at {revision}")


@db.command("downgrade")
@click.argument("revision")
@click.pass_obj
def db_downgrade(cli: CliContext, revision: str) -> None:
    """Undo migrations down to REVISION ('base' removes everything)."""
    downgrade(cli.database_url(), revision)


@db.command("stop")
@click.pass_obj
def db_stop(cli: CliContext) -> None:
    """Stop the embedded cluster (it is not stopped when `make run` ends)."""
    config = cli.config
    if config.database_url:
        raise click.ClickException("DATABASE_URL is set: that database is not ours to stop")
    pgcluster.embedded(config.var_dir, config.pg_port).stop()
    click.echo("rangersync: embedded database stopped")


# --- audit --------------------------------------------------------------------------------------


@click.group()
def audit() -> None:
    """The hash-chained audit log."""


@audit.command("verify")
@click.pass_obj
def audit_verify(cli: CliContext) -> None:
    """Recompute every link of the audit chain; exit 1 if any was tampered with."""
    with cli.unit_of_work() as session:
        check = verify_chain(session)
    if not check.intact:
        raise click.ClickException(
            f"audit chain broken at entry {check.first_broken_id} ({check.entries} entries)"
        )
    click.echo(f"rangersync: audit chain intact ({check.entries} entries)")


commands = [db, audit]
