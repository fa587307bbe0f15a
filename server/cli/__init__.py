"""The `rangersync` command. The group is defined once here; its commands come from the `cli`
module of each package of `server` (a module-level `commands` list), from this package's own
composition commands (serve, worker), and from installed distributions through the entry-point
group `rangersync.commands` (each a click command or group). Every command is handed a
`CliContext` (config, database, unit of work) as click's context object: `@click.pass_obj`."""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import sys
from importlib.metadata import entry_points
from pathlib import Path

import click

import server
from server.cli import serve, worker
from server.core.cli import CliContext

ENTRY_POINT_GROUP = "rangersync.commands"


@click.group()
@click.pass_context
def main(ctx: click.Context) -> None:
    """RangerSync: the server wildlife rangers' handhelds sync to."""
    ctx.ensure_object(CliContext)


def capability_commands() -> list[click.Command]:
    """The `commands` of every `server.<package>.cli` module, in package order."""
    found: list[click.Command] = []
    for package in sorted(pkgutil.iter_modules(server.__path__), key=lambda m: m.name):
        name = f"server.{package.name}.cli"
        if package.ispkg and package.name != "cli" and importlib.util.find_spec(name):
            found += importlib.import_module(name).commands
    return found


def mount(group: click.Group, command: click.Command, name: str | None = None) -> None:
    name = name or command.name
    if name in group.commands:
        raise RuntimeError(f"two commands are called `rangersync {name}`")
    group.add_command(command, name)


@main.command()
@click.option("--server", "server_url", default="http://127.0.0.1:5000", show_default=True)
@click.option("--area", default="demo", show_default=True)
@click.option("--manager", default="manager", show_default=True, help="enrols the devices")
@click.option("--password-stdin", is_flag=True, help="read the manager's password from stdin")
@click.option("--devices", default=3, show_default=True, type=click.IntRange(1, 200))
@click.option("--hours", default=2.0, show_default=True, type=click.FloatRange(0.1, 24))
@click.option(
    "--signal",
    default=0.6,
    show_default=True,
    type=click.FloatRange(0, 1),
    help="chance of a signal at each half-hourly sync attempt",
)
@click.option(
    "--photos",
    "photo_rate",
    default=0.5,
    show_default=True,
    type=click.FloatRange(0, 1),
    help="chance that a report comes with a photo (uploaded resumably)",
)
@click.option("--seed", default=1, show_default=True)
@click.option("--sos", is_flag=True, help="then a safety drill: an SOS and an overdue patrol")
def simulate(
    server_url, area, manager, password_stdin, devices, hours, signal, photo_rate, seed, sos
) -> None:
    """Handhelds walk patrols, file reports, lose signal and sync against a running server.

    Without --password-stdin it uses the demo park's password."""
    from server.demo.seed import DEMO_PASSWORD
    from sync.simulate import run_fleet

    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else DEMO_PASSWORD
    result = run_fleet(
        server_url,
        area=area,
        manager=manager,
        password=password,
        devices=devices,
        hours=hours,
        signal=signal,
        photo_rate=photo_rate,
        seed=seed,
        say=click.echo,
    )
    verdicts = ", ".join(f"{n} {v}" for v, n in sorted(result.verdicts.items()))
    click.echo(
        f"rangersync: {result.devices} devices, {result.fixes} fixes, {result.reports} reports, "
        f"{result.offline_syncs} sync attempts without signal; verdicts: {verdicts}"
    )
    click.echo(
        f"rangersync: {result.sent} records sent, {result.acknowledged} acknowledged; "
        f"{result.photos} photos taken, {result.photos_uploaded} uploaded"
    )
    if not result.complete:
        raise click.ClickException(
            "not every record was acknowledged or photo uploaded; see the verdicts above"
        )
    if sos:
        from sync.safety_sim import run_drill

        drill = run_drill(server_url, area=area, manager=manager, password=password, say=click.echo)
        if not drill.complete:
            raise click.ClickException("the SOS or the overdue patrol did not reach everyone")


@main.group()
def gpx() -> None:
    """Tracks from handheld GPS units."""


@gpx.command("import")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--server", "server_url", default="http://127.0.0.1:5000", show_default=True)
@click.option("--token-stdin", is_flag=True, required=True, help="the device token, on stdin")
@click.option(
    "--outbox",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("gpx-outbox.db"),
    show_default=True,
    help="the device's local outbox (kept: re-run to retry)",
)
@click.option(
    "--type",
    "patrol_type",
    default="foot",
    type=click.Choice(["foot", "vehicle", "boat", "aerial"]),
)
def gpx_import(files, server_url, token_stdin, outbox, patrol_type) -> None:
    """Import GPX tracks as patrols and sync them through the device protocol."""
    from sync.client import DeviceClient
    from sync.gpx import GPXError, import_gpx

    token = sys.stdin.readline().strip()
    client = DeviceClient(server_url, token, outbox)
    for path in files:
        try:
            for patrol_id, fixes in import_gpx(client, path, patrol_type):
                click.echo(f"{path.name}: patrol {patrol_id}, {fixes} fixes")
        except GPXError as error:
            raise click.ClickException(str(error)) from error
    report = client.sync()
    click.echo(
        f"rangersync: synced; verdicts {dict(report.pushed)}; {client.pending()} still pending"
    )


for _command in capability_commands() + serve.commands + worker.commands:
    mount(main, _command)
for _entry in entry_points(group=ENTRY_POINT_GROUP):
    mount(main, _entry.load(), _entry.name)
