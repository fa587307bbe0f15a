"""`rangersync demo`: load the demo park."""

from __future__ import annotations

import click

from server.cases.keys import Keyring
from server.cases.service import Sealer
from server.core.cli import CliContext
from server.core.migrate import upgrade
from server.demo.cases import ensure_demo_case
from server.demo.seed import seed
from server.evidence.storage import FileStore


@click.command()
@click.pass_obj
def demo(cli: CliContext) -> None:
    """Load the demo park (Mto Mweusi National Park, slug 'demo') if it is not there yet."""
    upgrade(cli.database_url())
    with cli.unit_of_work() as session:
        created = seed(session)
        config = cli.config
        ensure_demo_case(
            session,
            FileStore(config.evidence_dir),
            Keyring(config.evidence_keys_dir),
            Sealer(config.suspect_data_keys),
        )
    click.echo(
        "rangersync: demo park loaded" if created else "rangersync: demo park already present"
    )


commands = [demo]
