"""`rangersync cites`: the annual illegal trade report, and which Party an area reports for."""

from __future__ import annotations

from pathlib import Path

import click

from server.core.cli import CliContext
from server.core.policy import SYSTEM
from server.seizures import cites


@click.group("cites")
def cites_group() -> None:
    """CITES reporting: the annual illegal trade report."""


@cites_group.command("party")
@click.option("--area", "area", required=True, help="area slug or id")
@click.option("--agency", default=None, help="the agency that prepares the report")
@click.argument("country")
@click.pass_obj
def party(cli: CliContext, area: str, agency: str | None, country: str) -> None:
    """Say which CITES Party (ISO 3166-1 alpha-2 COUNTRY code) the area reports for."""
    with cli.unit_of_work() as session:
        cites.set_party(session, SYSTEM, area, country.upper(), agency)
    click.echo(f"rangersync: {area!r} reports to CITES as {country.upper()}")


@cites_group.command("report")
@click.option("--area", default=None, help="one area (slug or id)")
@click.option("--country", default=None, help="every area reporting for this ISO country code")
@click.option("--year", type=int, required=True, help="the calendar year (park's local dates)")
@click.option("--format", "fmt", type=click.Choice(sorted(cites.FORMATS)), default="xlsx")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.pass_obj
def report(
    cli: CliContext, area: str | None, country: str | None, year: int, fmt: str, output: Path
) -> None:
    """Write the annual illegal trade report (one row per seized item) to OUTPUT."""
    with cli.unit_of_work() as session:
        built = cites.build(
            session, SYSTEM, year, area=area, country=country.upper() if country else None
        )
    write, _ = cites.FORMATS[fmt]
    output.write_bytes(write(built))
    click.echo(
        f"rangersync: {output}: {built.seizures} seizures, {len(built.rows)} rows, "
        f"{built.incomplete} lacking required data"
    )
    for row in built.rows:
        if row.missing:
            click.echo(
                f"  seizure {row.cells[0]} ({row.cells[1]}): missing {', '.join(row.missing)}"
            )


commands = [cites_group]
