"""`rangersync analytics`: rebuild an area's coverage and effort from its fixes, set its grid."""

from __future__ import annotations

import click

from server.analytics import coverage
from server.areas.service import area_id_of
from server.core.cli import CliContext
from server.core.policy import SYSTEM


@click.group("analytics")
def analytics() -> None:
    """Patrol coverage and effort analytics."""


@analytics.command("rebuild")
@click.option("--area", default="demo", show_default=True, help="area slug or id")
@click.pass_obj
def rebuild(cli: CliContext, area: str) -> None:
    """Re-derive the area's coverage, hours per zone and effort from every fix (after its zones
    changed, or to check the incremental upkeep)."""
    with cli.unit_of_work() as session:
        coverage.rebuild(session, SYSTEM, area_id_of(session, SYSTEM, area))
    click.echo(f"rangersync: coverage and effort of {area!r} rebuilt")


@analytics.command("cell-size")
@click.option("--area", default="demo", show_default=True, help="area slug or id")
@click.argument("metres", type=int)
@click.pass_obj
def cell_size(cli: CliContext, area: str, metres: int) -> None:
    """Set the coverage grid's cell size in metres (50 to 20 000) and rebuild on it."""
    with cli.unit_of_work() as session:
        coverage.set_cell_size(session, SYSTEM, area_id_of(session, SYSTEM, area), metres)
    click.echo(f"rangersync: {area!r} now has {metres} m cells; coverage rebuilt")


commands = [analytics]
