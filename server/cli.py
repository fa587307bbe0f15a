"""The `rangersync` command: serve, database, users, devices, the demo park and the audit log."""

from __future__ import annotations

import os
import sys
import uuid
from contextlib import contextmanager
from importlib.metadata import entry_points
from pathlib import Path

import click
from sqlalchemy.orm import Session

from server.config import Config
from server.core import pgcluster
from server.core.db import make_engine, make_session_factory
from server.core.errors import DomainError
from server.core.policy import SYSTEM

DATABASE_NAME = "rangersync"


def _config() -> Config:
    return Config.from_env()


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


@contextmanager
def unit_of_work(config: Config | None = None):
    """A session for one CLI command, committed if the command succeeds."""
    engine = make_engine(prepare_database(config or _config()))
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


def _field_errors(error: DomainError) -> str:
    return "".join(
        f"\n  {field}: {'; '.join(map(str, msgs))}" for field, msgs in error.errors.items()
    )


@click.group()
def main() -> None:
    """RangerSync: the server wildlife rangers' handhelds sync to."""


# --- database -----------------------------------------------------------------------------------


@main.group()
def db() -> None:
    """The database: URL, migrations, the embedded cluster."""


@db.command("url")
def db_url() -> None:
    """Print the database URL in use (starting the embedded cluster if that is the one)."""
    click.echo(prepare_database(_config()))


@db.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: head)."""
    from server.core.migrate import upgrade

    upgrade(prepare_database(_config()), revision)
    click.echo(f"rangersync: database at {revision}")


@db.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Undo migrations down to REVISION ('base' removes everything)."""
    from server.core.migrate import downgrade

    downgrade(prepare_database(_config()), revision)


@db.command("stop")
def db_stop() -> None:
    """Stop the embedded cluster (it is not stopped when `make run` ends)."""
    config = _config()
    if config.database_url:
        raise click.ClickException("DATABASE_URL is set: that database is not ours to stop")
    pgcluster.embedded(config.var_dir, config.pg_port).stop()
    click.echo("rangersync: embedded database stopped")


# --- users --------------------------------------------------------------------------------------


@main.group()
def user() -> None:
    """Users and their roles."""


@user.command("add")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(["admin", "manager", "ranger", "partner"]))
@click.option("--area", "area_slug", required=True, help="slug of the area the role is in")
@click.option("--password-stdin", is_flag=True, help="read the password from standard input")
@click.option("--display-name", default=None)
@click.option("--superuser", is_flag=True, help="may do everything in every area")
def user_add(username, role, area_slug, password_stdin, display_name, superuser) -> None:
    """Create USERNAME with ROLE in an area."""
    from server.accounts.service import create_user
    from server.areas.service import area_id_of

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
    with unit_of_work() as session:
        user_ = create_user(
            session,
            SYSTEM,
            area_id=area_id_of(session, SYSTEM, area_slug),
            username=username,
            password=password,
            role=role,
            display_name=display_name,
            is_superuser=superuser,
        )
        click.echo(f"rangersync: created {user_.username} ({role} in {area_slug}), id {user_.id}")


@user.command("disable")
@click.argument("username")
def user_disable(username: str) -> None:
    """Disable USERNAME: their tokens and devices stop working at once."""
    from server.accounts.service import disable_user

    with unit_of_work() as session:
        disable_user(session, SYSTEM, username)
    click.echo(f"rangersync: {username} disabled")


# --- devices ------------------------------------------------------------------------------------


@main.group()
def device() -> None:
    """Handheld devices: enrolment and revocation."""


@device.command("enrol")
@click.option("--area", "area_slug", required=True)
@click.option("--user", "username", required=True, help="the ranger the device will belong to")
@click.option(
    "--qr",
    "qr_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="also write the QR code to this PNG or SVG file",
)
def device_enrol(area_slug: str, username: str, qr_path: Path | None) -> None:
    """Print a one-time enrolment code for a handheld."""
    import segno

    from server.areas.service import area_id_of
    from server.devices.service import create_enrolment_code

    config = _config()
    with unit_of_work(config) as session:
        issued = create_enrolment_code(
            session,
            SYSTEM,
            area_id_of(session, SYSTEM, area_slug),
            username,
            ttl_hours=config.enrolment_code_ttl_hours,
            server_url=config.public_url,
        )
    if qr_path:
        segno.make(issued.enrol_uri, error="m").save(str(qr_path), scale=6)
        click.echo(f"rangersync: QR code written to {qr_path}", err=True)
    click.echo(
        f"rangersync: code for {username} in {area_slug}, valid until "
        f"{issued.expires_at:%Y-%m-%d %H:%M} UTC, one use:",
        err=True,
    )
    click.echo(issued.code)


@device.command("revoke")
@click.argument("device_id", type=click.UUID)
def device_revoke(device_id: uuid.UUID) -> None:
    """Revoke DEVICE_ID: its next request is refused."""
    from server.devices.service import revoke

    with unit_of_work() as session:
        revoke(session, SYSTEM, device_id)
    click.echo(f"rangersync: device {device_id} revoked")


@device.command("list")
@click.option("--area", "area_slug", required=True)
def device_list(area_slug: str) -> None:
    """List the devices of an area."""
    from server.areas.service import area_id_of
    from server.devices.service import list_devices

    with unit_of_work() as session:
        devices = list_devices(session, SYSTEM, area_id_of(session, SYSTEM, area_slug))
    for d in devices:
        state = f"revoked {d.revoked_at:%Y-%m-%d}" if d.revoked_at else "active"
        seen = f"{d.last_seen_at:%Y-%m-%d %H:%M}" if d.last_seen_at else "never"
        click.echo(f"{d.id}  {d.username:<16} {state:<18} last seen {seen}  {d.name}")


# --- sync ---------------------------------------------------------------------------------------


@main.group("sync")
def sync_group() -> None:
    """Field sync housekeeping."""


@sync_group.command("purge-tombstones")
@click.option("--days", default=180, show_default=True, help="keep deletions this long")
def purge_tombstones(days: int) -> None:
    """Forget deletions older than DAYS; devices with older cursors are told to resync (410)."""
    from server.sync.pull import purge_tombstones as purge

    with unit_of_work() as session:
        purged = purge(session, days)
    click.echo(f"rangersync: {purged} tombstones older than {days} days purged")


@main.group()
def evidence() -> None:
    """Photos and other evidence files."""


@evidence.command("purge-expired")
def evidence_purge_expired() -> None:
    """Delete abandoned uploads past their expiry (run it from cron, hourly)."""
    from server.evidence.service import purge_expired
    from server.evidence.storage import FileStore

    config = _config()
    with unit_of_work(config) as session:
        purged = purge_expired(session, FileStore(config.evidence_dir))
    click.echo(f"rangersync: {purged} abandoned uploads purged")


# --- demo, audit, serve -------------------------------------------------------------------------


@main.command()
def demo() -> None:
    """Load the demo park (Mto Mweusi National Park, slug 'demo') if it is not there yet."""
    from server.core.migrate import upgrade
    from server.demo.seed import seed

    config = _config()
    upgrade(prepare_database(config))
    with unit_of_work(config) as session:
        created = seed(session)
    click.echo(
        "rangersync: demo park loaded" if created else "rangersync: demo park already present"
    )


@main.group()
def audit() -> None:
    """The hash-chained audit log."""


@audit.command("verify")
def audit_verify() -> None:
    """Recompute every link of the audit chain; exit 1 if any was tampered with."""
    from server.core.audit import verify_chain

    with unit_of_work() as session:
        check = verify_chain(session)
    if not check.intact:
        raise click.ClickException(
            f"audit chain broken at entry {check.first_broken_id} ({check.entries} entries)"
        )
    click.echo(f"rangersync: audit chain intact ({check.entries} entries)")


@main.command()
@click.option(
    "--host", default=lambda: os.environ.get("HOST", "127.0.0.1"), show_default="127.0.0.1"
)
@click.option(
    "--port", default=lambda: int(os.environ.get("PORT", "5000")), type=int, show_default="5000"
)
@click.option("--workers", default=lambda: int(os.environ.get("WEB_CONCURRENCY", "2")), type=int)
@click.option("--no-demo", is_flag=True, help="do not load the demo park into an empty database")
def serve(host: str, port: int, workers: int, no_demo: bool) -> None:
    """Migrate, load the demo park into an empty database, and serve with gunicorn."""
    from server.areas.service import area_count
    from server.core.migrate import upgrade
    from server.demo.seed import DEMO_USERS, demo_present, seed

    config = _config()
    url = prepare_database(config)
    upgrade(url)
    with unit_of_work(config) as session:
        if not no_demo and area_count(session) == 0:
            seed(session)
        show_demo_accounts = demo_present(session)
    base = f"http://{host}:{port}"
    where = (
        "DATABASE_URL" if config.database_url else f"embedded cluster in {config.var_dir / 'pg'}"
    )
    click.echo(f"""
RangerSync is starting on {base}
  sign in:   {base}/login
  API docs:  {base}/api/docs   (OpenAPI: {base}/api/openapi.json)
  health:    {base}/healthz    {base}/readyz
  database:  {where}""")
    if show_demo_accounts:
        click.echo("  demo park 'demo' accounts (username / password):")
        for username, role, password in DEMO_USERS:
            click.echo(f"    {role:<8} {username:<14} {password}")
    click.echo("Stop with Ctrl-C; `make stop` stops the embedded database.\n")
    # Bulk pushes yield to the SOS: one push at a time per worker, up to PUSH_QUEUE (20) waiting
    # their turn in order, and threads to spare. Waiting threads cost no CPU and no database
    # connection; queueing pushes rather than answering 503 cut a 200-device storm's p95 from
    # 81 s to 24 s with the SOS unchanged (bench/storm.py, bench/sos.py).
    os.environ.setdefault("PUSH_CONCURRENCY", "1")
    os.execvp(  # noqa: S606 (gunicorn replaces this process; argv is ours)
        sys.executable,
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"{host}:{port}",
            "--workers",
            str(workers),
            # Threads (gthread workers): a dashboard's live stream (SSE) holds one thread, not
            # a whole worker.
            "--threads",
            os.environ.get("WEB_THREADS", "24"),
            "--access-logfile",
            "-",
            "--timeout",
            "120",
            "--graceful-timeout",
            "20",
            # Workers fork from the loaded app, so a worker that dies is replaced at once.
            # (The app opens no database connection before the fork.)
            "--preload",
            "server.wsgi:app",
        ],
    )


from server.maps.cli import layers as _maps_layers  # noqa: E402
from server.maps.cli import mappack as _maps_mappack  # noqa: E402

main.add_command(_maps_layers)
main.add_command(_maps_mappack)

from server.notify.cli import worker as _worker_command  # noqa: E402 (registered last)

main.add_command(_worker_command)

from server.alerts.cli import alert as _alert_group  # noqa: E402 (registered last)

main.add_command(_alert_group)

from server.analytics.cli import analytics as analytics_group  # noqa: E402

main.add_command(analytics_group)

from server.areas.cli import area as _area_group  # noqa: E402

main.add_command(_area_group)

from server.reports.cli import categories as _categories_group  # noqa: E402

main.add_command(_categories_group)


def _mount_external_commands() -> None:
    """Commands other parts declare under the `rangersync.commands` entry points (the device side's
    `simulate` and `gpx`): mounted by name, so the server never imports the device side."""
    for entry in entry_points(group="rangersync.commands"):
        main.add_command(entry.load(), entry.name)


_mount_external_commands()
