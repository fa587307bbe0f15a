"""`rangersync analytics`: rebuild an area's coverage and effort from its fixes, set its grid."""

from __future__ import annotations

import click

from server.analytics import coverage
from server.core.policy import SYSTEM


@click.group("analytics")
def analytics() -> None:
    """Patrol coverage and effort analytics."""


@analytics.command("rebuild")
@click.option("--area", default="demo", show_default=True, help="area slug or id")
def rebuild(area: str) -> None:
    """Re-derive the area's coverage, hours per zone and effort from every fix (after its zones
    changed, or to check the incremental upkeep)."""
    from server.cli import unit_of_work

    with unit_of_work() as session:
        coverage.rebuild(session, SYSTEM, area)
    click.echo(f"rangersync: coverage and effort of {area!r} rebuilt")


@analytics.command("cell-size")
@click.option("--area", default="demo", show_default=True, help="area slug or id")
@click.argument("metres", type=int)
def cell_size(area: str, metres: int) -> None:
    """Set the coverage grid's cell size in metres (50 to 20 000) and rebuild on it."""
    from server.cli import unit_of_work

    with unit_of_work() as session:
        coverage.set_cell_size(session, SYSTEM, area, metres)
    click.echo(f"rangersync: {area!r} now has {metres} m cells; coverage rebuilt")
