"""Commands of exports: `rangersync export --area SLUG --format … --output FILE`."""

from __future__ import annotations

import time
from pathlib import Path

import click

from server.areas.service import area_id_of
from server.core.cli import CliContext
from server.core.policy import SYSTEM, Actor
from server.exports.formats import WRITERS, writes_everything
from server.exports.service import count
from server.exports.service import export as write
from server.ogc.service import Access

PROGRESS_ABOVE = 10_000  # features; smaller exports take a moment and say nothing until done


def _progress(total: int):
    started, shown = time.monotonic(), [-1.0]

    def say(done: int) -> None:
        now = time.monotonic()
        if now - shown[0] >= 1.0 or done >= total:
            shown[0] = now
            click.echo(
                f"rangersync: {done}/{total} features read ({done * 100 // max(total, 1)} %,"
                f" {now - started:.0f} s)",
                err=True,
            )

    return say


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
        total = count(
            session,
            partner,
            area_slug,
            fmt,
            everything=everything and writes_everything(fmt),
        )
        progress = None
        if total > PROGRESS_ABOVE:  # a long export says how far it is, on stderr
            progress = _progress(total)
        written = write(
            session, partner, area_slug, fmt, output, everything=everything, progress=progress
        )
    counts = ", ".join(f"{n} {what}" for what, n in written.items())
    click.echo(f"rangersync: {output} written ({counts})")


commands = [export]
