"""Commands of exports: `rangersync export --area SLUG --format … --output FILE`."""

from __future__ import annotations

from pathlib import Path

import click

from server.areas.service import area_id_of
from server.core.cli import CliContext
from server.core.policy import SYSTEM, Actor
from server.exports.formats import WRITERS
from server.exports.service import export as write
from server.ogc.service import Access


@click.command("export")
@click.option("--area", "area_slug", required=True)
@click.option("--format", "fmt", required=True, type=click.Choice(list(WRITERS)))
@click.option("--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--everything",
    is_flag=True,
    help="for the park's own use: also every report as recorded and the patrols' lines",
)
@click.pass_obj
def export(cli: CliContext, area_slug: str, fmt: str, output: Path, everything: bool) -> None:
    """Write the area's partner-visible data (geoprivacy applied) in one standard format.

    With --everything, also the reports at their true positions with notes, and patrol lines
    (not in the Darwin Core Archive, which stays the partner view)."""
    with cli.unit_of_work() as session:
        area_id = area_id_of(session, SYSTEM, area_slug)
        # What a partner of this area would get: the `partner` role there, nothing more.
        partner = Access(Actor("system", None, {area_id: "partner"}))
        if everything:
            partner = Access(SYSTEM)
        written = write(session, partner, area_slug, fmt, output, everything=everything)
    counts = ", ".join(f"{n} {what}" for what, n in written.items())
    click.echo(f"rangersync: {output} written ({counts})")


commands = [export]
