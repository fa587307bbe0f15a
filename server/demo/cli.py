"""`rangersync demo`: load the demo park."""

from __future__ import annotations

import click

from server.core.cli import CliContext
from server.core.migrate import upgrade
from server.demo.seed import seed


@click.command()
@click.pass_obj
def demo(cli: CliContext) -> None:
    """Load the demo park (Mto Mweusi National Park, slug 'demo') if it is not there yet."""
    upgrade(cli.database_url())
    with cli.unit_of_work() as session:
        created = seed(session)
    click.echo(
        "rangersync: demo park loaded" if created else "rangersync: demo park already present"
    )


commands = [demo]
