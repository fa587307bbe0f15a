"""`rangersync user …`: create and disable users from the command line."""

from __future__ import annotations

import sys

import click

from server.accounts.service import create_user, disable_user
from server.areas.service import area_id_of
from server.core.cli import CliContext
from server.core.policy import SYSTEM


@click.group()
def user() -> None:
    """Users and their roles."""


@user.command("add")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(["admin", "manager", "ranger", "partner"]))
@click.option("--area", "area_slug", required=True, help="slug of the area the role is in")
@click.option("--password-stdin", is_flag=True, help="read the password from standard input")
@click.option("--display-name", default=None)
@click.option("--superuser", is_flag=True, help="may do everything in every area")
@click.pass_obj
def user_add(
    cli: CliContext, username, role, area_slug, password_stdin, display_name, superuser
) -> None:
    """Create USERNAME with ROLE in an area."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
    with cli.unit_of_work() as session:
        user_ = create_user(
            session,
            SYSTEM,
            area_id=area_id_of(session, SYSTEM, area_slug),
            username=username,
            password=password,
            role=role,
            display_name=display_name,
            is_superuser=superuser,
        )
        click.echo(f"rangersync: created {user_.username} ({role} in {area_slug}), id {user_.id}")


@user.command("disable")
@click.argument("username")
@click.pass_obj
def user_disable(cli: CliContext, username: str) -> None:
    """Disable USERNAME: their tokens and devices stop working at once."""
    with cli.unit_of_work() as session:
        disable_user(session, SYSTEM, username)
    click.echo(f"rangersync: {username} disabled")


commands = [user]
