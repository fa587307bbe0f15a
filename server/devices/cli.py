"""`rangersync device …`: enrol, revoke and list handhelds from the command line."""

from __future__ import annotations

import uuid
from pathlib import Path

import click
import segno

from server.areas.service import area_id_of
from server.core.cli import CliContext
from server.core.policy import SYSTEM
from server.devices.service import create_enrolment_code, list_devices, revoke


@click.group()
def device() -> None:
    """Handheld devices: enrolment and revocation."""


@device.command("enrol")
@click.option("--area", "area_slug", required=True)
@click.option("--user", "username", required=True, help="the ranger the device will belong to")
@click.option(
    "--qr",
    "qr_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="also write the QR code to this PNG or SVG file",
)
@click.pass_obj
def device_enrol(cli: CliContext, area_slug: str, username: str, qr_path: Path | None) -> None:
    """Print a one-time enrolment code for a handheld."""
    config = cli.config
    with cli.unit_of_work() as session:
        issued = create_enrolment_code(
            session,
            SYSTEM,
            area_id_of(session, SYSTEM, area_slug),
            username,
            ttl_hours=config.enrolment_code_ttl_hours,
            server_url=config.public_url,
        )
    if qr_path:
        segno.make(issued.enrol_uri, error="m").save(str(qr_path), scale=6)
        click.echo(f"rangersync: QR code written to {qr_path}", err=True)
    click.echo(
        f"rangersync: code for {username} in {area_slug}, valid until "
        f"{issued.expires_at:%Y-%m-%d %H:%M} UTC, one use:",
        err=True,
    )
    click.echo(issued.code)


@device.command("revoke")
@click.argument("device_id", type=click.UUID)
@click.pass_obj
def device_revoke(cli: CliContext, device_id: uuid.UUID) -> None:
    """Revoke DEVICE_ID: its next request is refused."""
    with cli.unit_of_work() as session:
        revoke(session, SYSTEM, device_id)
    click.echo(f"rangersync: device {device_id} revoked")


@device.command("list")
@click.option("--area", "area_slug", required=True)
@click.pass_obj
def device_list(cli: CliContext, area_slug: str) -> None:
    """List the devices of an area."""
    with cli.unit_of_work() as session:
        devices = list_devices(session, SYSTEM, area_id_of(session, SYSTEM, area_slug))
    for d in devices:
        state = f"revoked {d.revoked_at:%Y-%m-%d}" if d.revoked_at else "active"
        seen = f"{d.last_seen_at:%Y-%m-%d %H:%M}" if d.last_seen_at else "never"
        click.echo(f"{d.id}  {d.username:<16} {state:<18} last seen {seen}  {d.name}")


commands = [device]
