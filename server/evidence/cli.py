"""`rangersync evidence …`: housekeeping of photos and other evidence files."""

from __future__ import annotations

import click

from server.core.cli import CliContext
from server.evidence.service import purge_expired
from server.evidence.storage import FileStore


@click.group()
def evidence() -> None:
    """Photos and other evidence files."""


@evidence.command("purge-expired")
@click.pass_obj
def evidence_purge_expired(cli: CliContext) -> None:
    """Delete abandoned uploads past their expiry (run it from cron, hourly)."""
    with cli.unit_of_work() as session:
        purged = purge_expired(session, FileStore(cli.config.evidence_dir))
    click.echo(f"rangersync: {purged} abandoned uploads purged")


commands = [evidence]
