"""Commands of maps: `rangersync layers …` (import, list) and `rangersync mappack …` (build,
basemap, rebuild-stale)."""

from __future__ import annotations

from pathlib import Path

import click

from server.areas.service import area_id_of
from server.core.cli import CliContext
from server.core.policy import SYSTEM
from server.maps.imports import import_file
from server.maps.layers import layer_geojson, list_layers
from server.maps.packages import attach_basemap, build, stale_areas


@click.group()
def layers() -> None:
    """Map layers of protected areas."""


def print_report(report, say=click.echo) -> None:
    for name, counts in report.layers.items():
        how = f" ({report.identity[name]})" if name in report.identity else ""
        say(f"  layer {name}: " + ", ".join(f"{n} {what}" for what, n in counts.items()) + how)
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
@click.option(
    "--key",
    default=None,
    metavar="FIELD",
    help="the field that identifies features of a file without RangerSync ids (remembered for"
    " the next import of the same source; without it: the remembered key, else content)",
)
@click.pass_obj
def layers_import(
    cli: CliContext, file: Path, area_slug, layer, preview, repair, replace, key
) -> None:
    """Import GeoJSON, a zipped Shapefile, a GeoPackage or KML/KMZ into an area's layers."""
    with cli.unit_of_work() as session:
        report = import_file(
            session,
            SYSTEM,
            area_id_of(session, SYSTEM, area_slug),
            file.name,
            file.read_bytes(),
            layer=layer,
            preview=preview,
            repair=repair,
            replace=replace,
            key=key,
        )
        if preview:
            session.rollback()
    click.echo(f"{file.name} → {area_slug}" + (" (preview: nothing changed)" if preview else ""))
    print_report(report)


@layers.command("export")
@click.option("--area", "area_slug", required=True)
@click.option("--layer", required=True)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def layers_export(cli: CliContext, area_slug: str, layer: str, file: Path) -> None:
    """Write a layer as GeoJSON (with its features' ids, so a re-import updates in place)."""
    with cli.unit_of_work() as session:
        document = layer_geojson(session, SYSTEM, area_id_of(session, SYSTEM, area_slug), layer)
    file.write_bytes(document.body)
    click.echo(f"rangersync: {layer} of {area_slug} written to {file}")


@layers.command("list")
@click.option("--area", "area_slug", required=True)
@click.pass_obj
def layers_list(cli: CliContext, area_slug: str) -> None:
    """List an area's layers with their feature counts."""
    with cli.unit_of_work() as session:
        for info in list_layers(session, SYSTEM, area_id_of(session, SYSTEM, area_slug)):
            click.echo(
                f"{info.name:<24} {info.kind:<9} {info.count:>7}  {', '.join(info.geometry_types)}"
            )


@click.group()
def mappack() -> None:
    """Offline map packages for handhelds."""


def _say_package(package, slug: str) -> None:
    size = sum(f["size"] for f in package.files if f["role"] != "delta")
    click.echo(
        f"rangersync: {slug} package v{package.version}: {package.tile_count} tiles, "
        f"zooms {package.min_zoom}–{package.max_zoom}, {size} bytes"
    )
    for f in package.files:
        click.echo(f"  {f['name']:<20} {f['role']:<8} {f['size']:>10}  sha256 {f['sha256']}")


@mappack.command("build")
@click.option("--area", "area_slug", required=True)
@click.option("--min-zoom", type=click.IntRange(0, 18), help="default: as last time, or 8")
@click.option("--max-zoom", type=click.IntRange(0, 18), help="default: as last time, or 15")
@click.option("--if-stale", is_flag=True, help="only if the layers changed since the last build")
@click.pass_obj
def mappack_build(cli: CliContext, area_slug: str, min_zoom, max_zoom, if_stale: bool) -> None:
    """Build the next version of an area's offline map package."""
    config = cli.config
    with cli.unit_of_work() as session:
        package = build(
            session,
            SYSTEM,
            area_id_of(session, SYSTEM, area_slug),
            config.maps_dir,
            zooms=(min_zoom, max_zoom),
            only_if_stale=if_stale,
        )
    if package is None:
        click.echo(f"rangersync: {area_slug} package is current")
    else:
        _say_package(package, area_slug)


@mappack.command("basemap")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--area", "area_slug", required=True)
@click.pass_obj
def mappack_basemap(cli: CliContext, file: Path, area_slug: str) -> None:
    """Attach a park's raster base map (MBTiles of png, jpg or webp) to its packages."""
    config = cli.config
    with cli.unit_of_work() as session:
        basemap = attach_basemap(
            session, SYSTEM, area_id_of(session, SYSTEM, area_slug), file, config.maps_dir
        )
    click.echo(
        f"rangersync: base map {basemap.sha256[:12]}… ({basemap.format}) attached to "
        f"{area_slug}; run `rangersync mappack build --area {area_slug}`"
    )


@mappack.command("rebuild-stale")
@click.pass_obj
def mappack_rebuild_stale(cli: CliContext) -> None:
    """Rebuild every package whose layers changed since it was built (run it from cron)."""
    config = cli.config
    with cli.unit_of_work() as session:
        slugs = stale_areas(session)
    for slug in slugs:
        with cli.unit_of_work() as session:
            current = build(
                session,
                SYSTEM,
                area_id_of(session, SYSTEM, slug),
                config.maps_dir,
                only_if_stale=True,
            )
        if current is not None:
            _say_package(current, slug)
    click.echo(f"rangersync: {len(slugs)} stale packages rebuilt")


commands = [layers, mappack]
