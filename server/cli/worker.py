"""`rangersync worker`: deliver notifications, run the safety rules, purge abandoned uploads
(the tasks are composed in server.worker)."""

from __future__ import annotations

import logging

import click

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
@click.pass_obj
def worker(cli: CliContext, concurrency: int) -> None:
    """Deliver the outbox's notifications (email, SMS gateway, webhooks), evaluate the safety
    rules every 20 seconds and put back the jobs of dead workers. Run as many as you like."""
    config = cli.config
    logging.basicConfig(
        level=config.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    url = cli.database_url()
    engine = make_engine(url)
    click.echo(f"rangersync: worker started (concurrency {concurrency})", err=True)
    try:
        run(config, engine, url, concurrency)
    finally:
        engine.dispose()


commands = [worker]
