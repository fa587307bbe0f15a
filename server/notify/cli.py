"""`rangersync worker`: deliver notifications and run the safety rules."""

from __future__ import annotations

import logging

import click


@click.command("worker")
@click.option(
    "--concurrency",
    default=4,
    show_default=True,
    type=click.IntRange(1, 64),
    help="jobs this process works on at once",
)
def worker(concurrency: int) -> None:
    """Deliver the outbox's notifications (email, SMS gateway, webhooks), evaluate the safety
    rules every 20 seconds and put back the jobs of dead workers. Run as many as you like."""
    from server.cli import _config, prepare_database
    from server.core.db import make_engine
    from server.worker import run

    config = _config()
    logging.basicConfig(
        level=config.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    url = prepare_database(config)
    engine = make_engine(url)
    click.echo(f"rangersync: worker started (concurrency {concurrency})", err=True)
    try:
        run(config, engine, url, concurrency)
    finally:
        engine.dispose()
