"""The device side's commands, mounted on `rangersync` (entry-point group `rangersync.commands`):
`simulate` walks handhelds against a running server, `gpx import` syncs GPS units' tracks."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from sync.device.client import DeviceClient
from sync.device.gpx import GPXError, import_gpx
from sync.device.simulate import run_fleet

# The demo park's published password (server/demo/seed.py seeds it, tests/server/demo/test_demo.py
# checks the two agree): `simulate` uses it when no --password-stdin is given.
DEMO_PASSWORD = "mweusi-demo-2026"  # noqa: S105


@click.command()
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
        from sync.device.safety_sim import run_drill

        drill = run_drill(server_url, area=area, manager=manager, password=password, say=click.echo)
        if not drill.complete:
            raise click.ClickException("the SOS or the overdue patrol did not reach everyone")


@click.group()
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
