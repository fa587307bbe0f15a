"""The `rangersync` command. The group is defined once here; its commands come from the `cli`
module of each package of `server` (a module-level `commands` list), from this package's own
composition commands (serve, worker), and from installed distributions through the entry-point
group `rangersync.commands` (each a click command or group). Every command is handed a
`CliContext` (config, database, unit of work) as click's context object: `@click.pass_obj`."""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from importlib.metadata import entry_points

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


for _command in capability_commands() + serve.commands + worker.commands:
    mount(main, _command)
for _entry in entry_points(group=ENTRY_POINT_GROUP):
    mount(main, _entry.load(), _entry.name)
