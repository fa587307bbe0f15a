"""`rangersync worker`: deliver notifications and run the safety rules."""

from __future__ import annotations

import os

import click
import prometheus_client

from server.core import logs


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
def worker(concurrency: int, metrics_port: int) -> None:
    """Deliver the outbox's notifications (email, SMS gateway, webhooks), evaluate the safety
    rules every 20 seconds and put back the jobs of dead workers. Run as many as you like."""
    from server.cli import _config, prepare_database
    from server.core.db import make_engine
    from server.notify.worker import run

    config = _config()
    logs.configure(config.log_level, config.log_format)
    if metrics_port:  # its counters (jobs, notification attempts) for Prometheus
        prometheus_client.start_http_server(metrics_port, addr="127.0.0.1")
    url = prepare_database(config)
    engine = make_engine(url)
    click.echo(f"rangersync: worker started (concurrency {concurrency})", err=True)
    try:
        run(config, engine, url, concurrency)
    finally:
        engine.dispose()
