"""The device side's commands, mounted on `rangersync` (entry-point group `rangersync.commands`):
`simulate` walks handhelds against a running server, `gpx import` syncs GPS units' tracks."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from sync.device.client import DeviceClient, NotSignedIn, SyncRefused
from sync.device.gpx import GPXError, import_gpx
from sync.device.mappack import MapPackError
from sync.device.safety_sim import run_drill
from sync.device.simulate import run_fleet

# The demo park's published password (server/demo/seed.py seeds it, tests/server/demo/test_demo.py
# checks the two agree): `simulate` uses it when no --password-stdin is given.
DEMO_PASSWORD = "mweusi-demo-2026"  # noqa: S105


@contextmanager
def plain_errors(what: str) -> Iterator[None]:
    """A command that talks to a server ends with a sentence and a non-zero exit, never a
    traceback: refused (with the server's reason), or no answer after every retry."""
    try:
        yield
    except SyncRefused as refused:
        raise click.ClickException(f"{what}: the server refused: {refused}") from None
    except (NotSignedIn, MapPackError) as error:
        raise click.ClickException(f"{what}: {error}") from None
    except OSError as error:  # NoAnswer after every retry, a refused connection, a timeout
        raise click.ClickException(
            f"{what}: no whole answer from the server after every retry ({error}); what was "
            "recorded is kept: run it again when the link is back"
        ) from None


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
@click.option(
    "--seizures",
    "seizure_rate",
    default=0.0,
    show_default=True,
    type=click.FloatRange(0, 1),
    help="chance that a patrol makes a seizure (sent through the push like any record)",
)
@click.option("--seed", default=1, show_default=True)
@click.option("--sos", is_flag=True, help="then a safety drill: an SOS and an overdue patrol")
def simulate(
    server_url,
    area,
    manager,
    password_stdin,
    devices,
    hours,
    signal,
    photo_rate,
    seizure_rate,
    seed,
    sos,
) -> None:
    """Handhelds walk patrols, file reports, lose signal and sync against a running server.

    Without --password-stdin it uses the demo park's password."""
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else DEMO_PASSWORD
    with plain_errors("simulate"):
        result = run_fleet(
            server_url,
            area=area,
            manager=manager,
            password=password,
            devices=devices,
            hours=hours,
            signal=signal,
            photo_rate=photo_rate,
            seizure_rate=seizure_rate,
            seed=seed,
            say=click.echo,
        )
    verdicts = ", ".join(f"{n} {v}" for v, n in sorted(result.verdicts.items()))
    click.echo(
        f"rangersync: {result.devices} devices, {result.fixes} fixes, {result.reports} reports, "
        f"{result.seizures} seizures, "
        f"{result.offline_syncs} sync attempts without signal; verdicts: {verdicts}"
    )
    click.echo(
        f"rangersync: {result.sent} records sent, {result.acknowledged} acknowledged; "
        f"{result.photos} photos taken, {result.photos_uploaded} uploaded, "
        f"{result.receipts} signed receipts verified"
    )
    if not result.complete:
        raise click.ClickException(
            "not every record was acknowledged or photo uploaded; see the verdicts above"
        )
    if sos:
        with plain_errors("simulate --sos"):
            drill = run_drill(
                server_url, area=area, manager=manager, password=password, say=click.echo
            )
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
    """Import GPX tracks as patrols and sync them through the device protocol.

    One line per imported track ("N fixes"), one per skipped track or route with the reason,
    one per record the server refused with its code and reason; the exit is non-zero when no
    track was stored."""

    token = sys.stdin.readline().strip()
    client = DeviceClient(server_url, token, outbox)
    imported = []
    for path in files:
        try:
            tracks, skipped = import_gpx(client, path, patrol_type)
        except GPXError as error:
            click.echo(f"{error}: skipped", err=True)
            continue
        for track in tracks:
            where = f"{path.name}: {_track_label(track.track)}"
            click.echo(f"{where}: patrol {track.patrol_id}, {len(track.track.fixes)} fixes")
            imported.append((where, track.patrol_id))
        for skip in skipped:
            click.echo(f"{path.name}: {skip.what}: skipped: {skip.reason}")
    if not imported:
        raise click.ClickException("no timed track to import: nothing was stored")
    with plain_errors("gpx import"):
        report = client.sync()
    stored = 0
    for where, patrol_id in imported:
        records = client.patrol_records(patrol_id)
        for kind, state, code, detail in records:
            if state == "needs_attention":
                click.echo(f"{where}: the server refused a {kind}: {code}: {detail}")
        stored += any(kind == "track_chunk" and state == "synced" for kind, state, *_ in records)
    verdicts = ", ".join(f"{n} {v}" for v, n in sorted(report.pushed.items())) or "none"
    click.echo(
        f"rangersync: {stored} of {len(imported)} tracks stored (verdicts: {verdicts}); "
        f"{client.pending()} still pending"
    )
    if stored == 0:
        raise click.ClickException("nothing was stored; see the refusals above")


def _track_label(track) -> str:
    return f"track {track.number}" + (
        f" ({track.name.strip()})" if (track.name or "").strip() else ""
    )
