"""Commands of reports: `rangersync categories import` loads a park's own categories from a file."""

from __future__ import annotations

import json
from pathlib import Path

import click
from marshmallow import ValidationError

from schemas.reports import CategoryIn
from server.core.cli import CliContext
from server.core.policy import SYSTEM
from server.reports.park_categories import put_categories


@click.group()
def categories() -> None:
    """Report categories of a park."""


@categories.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--area", "area_slug", required=True)
@click.pass_obj
def categories_import(cli: CliContext, file: Path, area_slug: str) -> None:
    """Add or change the area's own categories from FILE: a JSON list of {key, label,
    attribute_schema, geometry_kind, hostile, sensitive, retired}. A changed category gets a new
    version (devices get it at their next pull; reports on older versions stay valid)."""
    try:
        raw = json.loads(file.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        raise click.ClickException(f"{file.name}: not JSON ({error})") from None
    if not isinstance(raw, list):
        raise click.ClickException(f"{file.name}: a JSON list of categories is expected")
    try:
        specs = CategoryIn(many=True).load(raw)
    except ValidationError as error:
        problems = "".join(
            f"\n  category {i}: {messages}" for i, messages in error.normalized_messages().items()
        )
        raise click.ClickException(f"{file.name}: refused:{problems}") from None
    with cli.unit_of_work() as session:
        results = put_categories(session, SYSTEM, area_slug, specs)
    for r in results:
        click.echo(f"{r.key}: {r.action}, version {r.version} ({r.label})")


commands = [categories]
