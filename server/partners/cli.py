"""Commands of partners: `rangersync partner key issue|list|revoke`, `rangersync partner log`."""

from __future__ import annotations

import uuid

import click

from server.areas.service import area_id_of
from server.core.cli import CliContext
from server.core.policy import SYSTEM
from server.partners.keys import issue_key, list_keys, revoke_key
from server.partners.keys import request_log as log


@click.group()
def partner() -> None:
    """Conservation partners: their keys and what they asked for."""


@partner.group()
def key() -> None:
    """Partner keys (shown once, stored hashed, revocable)."""


def _split(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


@key.command("issue")
@click.option("--area", "areas", required=True, multiple=True, help="slug; repeat for several")
@click.option("--org", "organisation", required=True, help="the partner organisation")
@click.option(
    "--collections",
    default=None,
    help="A,B: boundary, zones, observations, effort, findings, layer-<layer> (default: all)",
)
@click.option("--days", default=365, show_default=True, type=click.IntRange(1, 3 * 365))
@click.option("--networks", default=None, help="allowed source networks, CIDR, comma-separated")
@click.option("--rate-limit", default="120/minute", show_default=True)
@click.pass_obj
def key_issue(
    cli: CliContext, areas, organisation, collections, days, networks, rate_limit
) -> None:
    """Issue a key; it is printed once, on the last line."""
    with cli.unit_of_work() as session:
        issued = issue_key(
            session,
            SYSTEM,
            areas=list(areas),
            organisation=organisation,
            collections=_split(collections),
            days=days,
            networks=_split(networks),
            rate_limit=rate_limit,
        )
    click.echo(
        f"rangersync: key {issued.id} for {issued.organisation} over {', '.join(issued.areas)}"
        f" ({', '.join(issued.collections or ['every collection'])}), rate {issued.rate_limit},"
        f" valid until {issued.expires_at:%Y-%m-%d %H:%M} UTC; it is shown only now:",
        err=True,
    )
    click.echo(issued.key)


@key.command("list")
@click.option("--area", "area_slug", required=True)
@click.pass_obj
def key_list(cli: CliContext, area_slug: str) -> None:
    """The keys that reach an area."""
    with cli.unit_of_work() as session:
        found = list_keys(session, SYSTEM, area_id_of(session, SYSTEM, area_slug))
    for k in found:
        click.echo(
            f"{k['id']}  {k['key_prefix']}…  {k['state']:<8} until {k['expires_at']:%Y-%m-%d}"
            f"  {k['organisation']}  [{', '.join(k['collections'] or ['all'])}]"
        )


@key.command("revoke")
@click.argument("key_id", type=click.UUID)
@click.pass_obj
def key_revoke(cli: CliContext, key_id: uuid.UUID) -> None:
    """Revoke KEY_ID: its next request is refused."""
    with cli.unit_of_work() as session:
        revoke_key(session, SYSTEM, key_id)
    click.echo(f"rangersync: partner key {key_id} revoked")


@partner.command("log")
@click.option("--area", "area_slug", required=True)
@click.option("--limit", default=50, show_default=True)
@click.pass_obj
def request_log(cli: CliContext, area_slug: str, limit: int) -> None:
    """The latest requests made with the area's partner keys."""
    with cli.unit_of_work() as session:
        rows = log(session, SYSTEM, area_id_of(session, SYSTEM, area_slug), limit=limit)
    for r in rows:
        click.echo(
            f"{r['at']:%Y-%m-%d %H:%M:%S}  {r['status']}  {r['organisation']}  {r['path']}"
            f"  {r['collection'] or '-'}  features={r['features']}  from {r['remote_addr']}"
        )


commands = [partner]
