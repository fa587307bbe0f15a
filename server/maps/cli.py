"""Commands of maps: `rangersync layers …` (import, list) and `rangersync mappack …`."""

from __future__ import annotations

from pathlib import Path

import click

from server.core.policy import SYSTEM


@click.group()
def layers() -> None:
    """Map layers of protected areas."""


def print_report(report, say=click.echo) -> None:
    for name, counts in report.layers.items():
        say(f"  layer {name}: " + ", ".join(f"{n} {what}" for what, n in counts.items()))
    say(
        f"accepted {report.accepted} ({report.created} created, {report.updated} updated, "
        f"{report.unchanged} unchanged), deleted {report.deleted}, "
        f"rejected {len(report.rejected)}"
    )
    for r in report.rejected:
        where = f" at {r.location[0]:.6f}, {r.location[1]:.6f}" if r.location else ""
        ident = f" (id {r.source_id})" if r.source_id else ""
        say(f"  rejected {r.source_layer}#{r.index}{ident}: {r.reason}: {r.detail}{where}")
    for r in report.repaired:
        say(f"  repaired {r.source_layer}#{r.index}: {r.detail}")
    for note in report.notes:
        say(f"  note: {note}")


@layers.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--area", "area_slug", required=True)
@click.option("--layer", default=None, help="target layer (default: from the file's layers)")
@click.option("--preview", is_flag=True, help="report what would change; change nothing")
@click.option("--repair", is_flag=True, help="make invalid geometries valid (each is logged)")
@click.option("--replace", is_flag=True, help="delete layer features the file no longer holds")
def layers_import(file: Path, area_slug, layer, preview, repair, replace) -> None:
    """Import GeoJSON, a zipped Shapefile, a GeoPackage or KML/KMZ into an area's layers."""
    from server.cli import unit_of_work
    from server.maps.imports import import_file

    with unit_of_work() as session:
        report = import_file(
            session,
            SYSTEM,
            area_slug,
            file.name,
            file.read_bytes(),
            layer=layer,
            preview=preview,
            repair=repair,
            replace=replace,
        )
        if preview:
            session.rollback()
    click.echo(f"{file.name} → {area_slug}" + (" (preview: nothing changed)" if preview else ""))
    print_report(report)


@layers.command("list")
@click.option("--area", "area_slug", required=True)
def layers_list(area_slug: str) -> None:
    """List an area's layers with their feature counts."""
    from server.cli import unit_of_work
    from server.maps.layers import list_layers

    with unit_of_work() as session:
        for info in list_layers(session, SYSTEM, area_slug):
            click.echo(f"{info.name:<24} {info.kind:<9} {info.count:>7}  "
                       f"{', '.join(info.geometry_types)}")  # fmt: skip
