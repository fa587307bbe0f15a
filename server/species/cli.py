"""`rangersync taxa`: load the starter list, import a Species+ / CITES Checklist CSV export."""

from __future__ import annotations

from pathlib import Path

import click

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
def import_command(file: Path, source: str | None) -> None:
    """Load FILE, a CSV exported from Species+ or the CITES Checklist (a country's whole list).
    Rows are matched by scientific name; only changed rows get a new version."""
    from server.cli import unit_of_work

    with unit_of_work() as session:
        result = service.import_file(session, SYSTEM, file, source)
    _say(result)


@taxa.command("load-starter")
def load_starter() -> None:
    """Load the curated starter list of commonly trafficked taxa (sources named in the file)."""
    from server.cli import unit_of_work

    with unit_of_work() as session:
        result = service.load_starter_list(session, SYSTEM)
    _say(result)
