"""`rangersync sync …`: field sync housekeeping."""

from __future__ import annotations

import click

from server.core.cli import CliContext
from server.sync.pull import purge_tombstones


@click.group("sync")
def sync() -> None:
    """Field sync housekeeping."""


@sync.command("purge-tombstones")
@click.option("--days", default=180, show_default=True, help="keep deletions this long")
@click.pass_obj
def sync_purge_tombstones(cli: CliContext, days: int) -> None:
    """Forget deletions older than DAYS; devices with older cursors are told to resync (410)."""
    with cli.unit_of_work() as session:
        purged = purge_tombstones(session, days)
    click.echo(f"rangersync: {purged} tombstones older than {days} days purged")


commands = [sync]
