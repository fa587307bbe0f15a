"""`rangersync taxa`: load the starter list, import a Species+ / CITES Checklist CSV export."""

from __future__ import annotations

from pathlib import Path

import click

from server.core.cli import CliContext
from server.core.policy import SYSTEM
from server.species import service


def _say(result) -> None:
    click.echo(
        f"rangersync: {result.added} taxa added, {result.updated} updated, "
        f"{result.unchanged} unchanged, {len(result.refused)} refused"
    )
    for line, reason in result.refused:
        click.echo(f"  line {line}: {reason}", err=True)


@click.group("taxa")
def taxa() -> None:
    """The taxon list devices pull and seizures name."""


@taxa.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--source", default=None, help="what to record as the rows' source")
@click.pass_obj
def import_command(cli: CliContext, file: Path, source: str | None) -> None:
    """Load FILE, a CSV exported from Species+ or the CITES Checklist (a country's whole list).
    Rows are matched by scientific name; only changed rows get a new version."""
    with cli.unit_of_work() as session:
        result = service.import_file(session, SYSTEM, file, source)
    _say(result)


@taxa.command("load-starter")
@click.pass_obj
def load_starter(cli: CliContext) -> None:
    """Load the curated starter list of commonly trafficked taxa (sources named in the file)."""
    with cli.unit_of_work() as session:
        result = service.load_starter_list(session, SYSTEM)
    _say(result)


commands = [taxa]
