"""Commands of areas: `rangersync area add` makes a park from its boundary file."""

from __future__ import annotations

from pathlib import Path

import click
from marshmallow import ValidationError
from shapely.geometry import mapping

from schemas.areas import AreaCreate
from server.core.policy import SYSTEM


@click.group()
def area() -> None:
    """Protected areas (parks)."""


@area.command("add")
@click.argument("slug")
@click.option("--name", required=True, help="the park's name as people say it")
@click.option("--timezone", required=True, help="IANA time zone, e.g. Africa/Dar_es_Salaam")
@click.option(
    "--boundary",
    "boundary_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="GeoJSON, zipped Shapefile, GeoPackage or KML/KMZ, in any CRS the file declares",
)
def area_add(slug: str, name: str, timezone: str, boundary_file: Path) -> None:
    """Create the area SLUG from a boundary file (reprojected to WGS 84, validated as layers
    are); prints the new area's slug."""
    from server.areas.service import create_area
    from server.cli import unit_of_work
    from server.maps.importers import read_boundary

    with unit_of_work() as session:
        boundary = read_boundary(boundary_file.read_bytes(), boundary_file.name)
        try:  # the same checks as the API's
            fields = AreaCreate().load(
                {"slug": slug, "name": name, "timezone": timezone, "boundary": mapping(boundary)}
            )
        except ValidationError as error:
            problems = "".join(
                f"\n  {field}: {'; '.join(map(str, messages))}"
                for field, messages in error.normalized_messages().items()
            )
            raise click.ClickException(f"area {slug!r} refused:{problems}") from None
        created = create_area(session, SYSTEM, **fields)
    click.echo(created.slug)
