"""`rangersync serve`: migrate, load the demo park into an empty database, serve with gunicorn."""

from __future__ import annotations

import os
import sys

import click

from server.areas.service import area_count
from server.cases.keys import Keyring
from server.cases.service import Sealer
from server.core.cli import CliContext
from server.core.migrate import upgrade
from server.demo.cases import ensure_demo_case
from server.demo.seed import DEMO_USERS, demo_present, seed
from server.evidence.storage import FileStore
from server.ops.gunicorn_conf import fresh_metrics_dir

ACCESS_LOG = [
    "--access-logfile",
    "-",
    "--access-logformat",
    '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(a)s" %(M)sms',
]


@click.command()
@click.option(
    "--host", default=lambda: os.environ.get("HOST", "127.0.0.1"), show_default="127.0.0.1"
)
@click.option(
    "--port", default=lambda: int(os.environ.get("PORT", "5000")), type=int, show_default="5000"
)
@click.option("--workers", default=lambda: int(os.environ.get("WEB_CONCURRENCY", "2")), type=int)
@click.option("--no-demo", is_flag=True, help="do not load the demo park into an empty database")
@click.pass_obj
def serve(cli: CliContext, host: str, port: int, workers: int, no_demo: bool) -> None:
    """Migrate, load the demo park into an empty database, and serve with gunicorn."""
    config = cli.config
    upgrade(cli.database_url())
    with cli.unit_of_work() as session:
        if not no_demo and area_count(session) == 0:
            seed(session)
        show_demo_accounts = demo_present(session)
        if show_demo_accounts:  # its case needs the evidence files and keys of this server
            ensure_demo_case(
                session,
                FileStore(config.evidence_dir),
                Keyring(config.evidence_keys_dir),
                Sealer(config.suspect_data_keys),
            )
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
            click.echo(f"    {role:<12} {username:<14} {password}")
    click.echo("Stop with Ctrl-C; `make stop` stops the embedded database.\n")
    # Bulk pushes yield to the SOS: one push at a time per worker, up to PUSH_QUEUE (20) waiting
    # their turn in order, and threads to spare. Waiting threads cost no CPU and no database
    # connection; queueing pushes rather than answering 503 cut a 200-device storm's p95 from
    # 81 s to 24 s with the SOS unchanged (bench/storm.py, bench/sos.py).
    os.environ.setdefault("PUSH_CONCURRENCY", "1")
    # Each gunicorn worker counts its own metrics in files here; /metrics sums them.
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(fresh_metrics_dir(config.var_dir, port))
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
            # a whole worker, and at most LIVE_STREAMS_MAX (a quarter) of them hold streams;
            # PUSH_CONCURRENCY + PUSH_QUEUE more hold pushes: the rest answer the SOS at once.
            "--threads",
            str(config.web_threads),
            # With LOG_FORMAT=json the app logs each request itself (with its request id:
            # server/ops/observe.py). The text access log has the path without its query string
            # and no Referer: partners paste their key into URLs (`?key=`, for QGIS and GDAL),
            # and a key must not end up in a log file.
            *(ACCESS_LOG if config.log_format == "text" else []),
            "--config",
            "python:server.ops.gunicorn_conf",
            "--timeout",
            "120",
            # The longest request line gunicorn reads (its maximum): a pull with the longest
            # cursor the schema allows fits; longer is a 414 problem document.
            "--limit-request-line",
            "8190",
            "--graceful-timeout",
            "20",
            # Workers fork from the loaded app, so a worker that dies is replaced at once.
            # (The app opens no database connection before the fork.)
            "--preload",
            "server.wsgi:app",
        ],
    )


commands = [serve]
