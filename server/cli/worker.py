"""`rangersync worker`: deliver notifications, run the safety rules, purge abandoned uploads
(the tasks are composed in server.worker)."""

from __future__ import annotations

import os

import click
import prometheus_client

from server.core import logs
from server.core.cli import CliContext
from server.core.db import make_engine
from server.worker import run


@click.command("worker")
@click.option(
    "--concurrency",
    default=4,
    show_default=True,
    type=click.IntRange(1, 64),
    help="jobs this process works on at once",
)
@click.option(
    "--metrics-port",
    default=lambda: int(os.environ.get("WORKER_METRICS_PORT") or 0),
    type=int,
    help="serve this worker's metrics on 127.0.0.1:PORT/metrics (0: not at all)",
)
@click.pass_obj
def worker(cli: CliContext, concurrency: int, metrics_port: int) -> None:
    """Deliver the outbox's notifications (email, SMS gateway, webhooks), evaluate the safety
    rules every 20 seconds and put back the jobs of dead workers. Run as many as you like."""
    config = cli.config
    logs.configure(config.log_level, config.log_format)
    if metrics_port:  # its counters (jobs, notification attempts) for Prometheus
        prometheus_client.start_http_server(metrics_port, addr="127.0.0.1")
    url = cli.database_url()
    engine = make_engine(url)
    click.echo(f"rangersync: worker started (concurrency {concurrency})", err=True)
    try:
        run(config, engine, url, concurrency)
    finally:
        engine.dispose()


commands = [worker]
