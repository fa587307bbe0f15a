"""`rangersync case …` and the court's side of `rangersync evidence …`: list a park's cases, build
a case's evidence package, verify a package offline, rotate the signing key."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import click
from sqlalchemy import select

from server.cases.keys import Keyring
from server.cases.models import Case
from server.cases.package import build_package
from server.cases.service import Sealer, list_cases
from server.cases.verify import verify_package
from server.core.cli import CliContext
from server.core.policy import SYSTEM
from server.evidence.cli import evidence
from server.evidence.storage import FileStore


@click.group()
def case() -> None:
    """Cases and prosecutions."""


@case.command("list")
@click.option("--area", required=True, help="the park's slug")
@click.option("--long", "long_", is_flag=True, help="number, status, outcome and title too")
@click.pass_obj
def case_list(cli: CliContext, area: str, long_: bool) -> None:
    """One case id per line (oldest first); with --long, tab-separated details after it."""
    with cli.unit_of_work() as session:
        views = list_cases(session, SYSTEM, area)
    for view in views:
        c = view.case
        details = (c.number, c.status, c.outcome or "-", c.title) if long_ else ()
        click.echo("\t".join((str(c.id), *details)))


@evidence.command("package")
@click.option("--case", "case_ref", required=True, help="the case's id or number")
@click.option("--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def evidence_package(cli: CliContext, case_ref: str, output: Path) -> None:
    """Write a case's evidence package (ZIP: files, manifest, signature, court report)."""
    config = cli.config
    partial = output.with_name(output.name + ".partial")  # no half-written package left behind
    try:
        with cli.unit_of_work() as session, open(partial, "wb") as out:
            case_id = _case_id(session, case_ref)
            built = build_package(
                session,
                SYSTEM,
                case_id,
                out,
                store=FileStore(config.evidence_dir),
                keyring=Keyring(config.evidence_keys_dir),
                sealer=Sealer(config.suspect_data_keys),
            )
        partial.replace(output)
    finally:
        partial.unlink(missing_ok=True)
    click.echo(
        f"rangersync: {output}: case {built.case_number}, {built.items} items, {built.files} "
        f"files, {built.custody_entries} custody entries, {built.audit_entries} audit entries, "
        f"{built.flags} flags"
    )


@evidence.command("verify")
@click.argument("package", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--key", help="the server key id you trust (from GET /api/v1/evidence/keys)")
def evidence_verify(package: Path, key: str | None) -> None:
    """Check a package offline: every file's hash, the receipts, each custody chain, the audit
    entries and the manifest's signature. Exit 0 only if every check holds."""
    result = verify_package(package, key)
    for check in result.checks:
        click.echo(f"{'ok' if check.ok else 'FAIL':<5} {check.name:<9} {check.detail}")
    for warning in result.warnings:
        click.echo(f"{'flag':<5} {'custody':<9} {warning}")
    failed = result.first_failed
    if failed is not None:
        click.echo(
            f"rangersync: {package} does NOT verify: first failed check: {failed.name}: "
            f"{failed.detail}",
            err=True,
        )
        sys.exit(1)
    click.echo(f"rangersync: {package} verifies (case {result.case_number}): every check holds")


@evidence.command("rotate-key")
@click.pass_obj
def evidence_rotate_key(cli: CliContext) -> None:
    """Make a new signing key; the old ones stay published so what they signed still verifies."""
    made = Keyring(cli.config.evidence_keys_dir).rotate()
    click.echo(f"rangersync: signing key {made.key_id} is now current")


def _case_id(session, ref: str) -> uuid.UUID:
    try:
        return uuid.UUID(ref)
    except ValueError:
        pass
    found = session.scalar(select(Case.id).where(Case.number == ref))
    if found is None:
        raise click.ClickException(f"no case {ref!r}")
    return found


commands = [case]
