"""`rangersync alert`: issue and list an area's safety alerts from the command line."""

from __future__ import annotations

import json

import click
from marshmallow import ValidationError

from schemas.alerts import AlertIn
from server.areas.service import area_id_of
from server.core.cli import CliContext
from server.core.policy import SYSTEM
from server.safety.alerts import issue_alert, list_alerts


@click.group("alert")
def alert() -> None:
    """Safety alerts."""


@alert.command("issue")
@click.option("--area", "area_slug", required=True)
@click.option("--severity", type=click.Choice(["info", "warning", "critical"]), required=True)
@click.option("--message", required=True)
@click.option("--geometry", default=None, help="GeoJSON geometry (a point needs --radius-m)")
@click.option("--radius-m", type=float, default=None)
@click.option("--geofence", is_flag=True, help="only devices last seen inside the geometry")
@click.pass_obj
def alert_issue(
    cli: CliContext, area_slug, severity, message, geometry, radius_m, geofence
) -> None:
    """Issue an alert (as the system) to an area's devices; prints its id."""

    body = {
        "severity": severity,
        "message": message,
        "audience": {"geofence": True} if geofence else {},
    }
    try:
        if geometry:
            body["geometry"] = json.loads(geometry)
        if radius_m is not None:
            body["radius_m"] = radius_m
        fields = AlertIn().load(body)
    except (ValueError, ValidationError) as error:
        raise click.ClickException(f"not a valid alert: {error}") from error
    with cli.unit_of_work() as session:
        view = issue_alert(session, SYSTEM, area_id_of(session, SYSTEM, area_slug), **fields)
    click.echo(str(view.id))


@alert.command("list")
@click.option("--area", "area_slug", required=True)
@click.option("--all", "everything", is_flag=True, help="also cancelled and expired ones")
@click.pass_obj
def alert_list(cli: CliContext, area_slug: str, everything: bool) -> None:
    """The area's alerts, newest first, with how many devices acknowledged each."""
    with cli.unit_of_work() as session:
        views = list_alerts(
            session, SYSTEM, area_id_of(session, SYSTEM, area_slug), active=not everything
        )
    for v in views:
        click.echo(
            f"{v.id}  {v.created_at:%Y-%m-%d %H:%M}  {v.severity:<8} {v.kind:<16} "
            f"seen {v.acknowledged}/{v.recipients}  {v.message}"
        )


commands = [alert]
