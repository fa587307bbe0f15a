"""Running Alembic from our own code: `rangersync db upgrade`, /readyz and the test fixtures."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from geoalchemy2 import alembic_helpers
from sqlalchemy.engine import Connection, Engine

import migrations

MIGRATIONS_DIR = Path(migrations.__file__).resolve().parent


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """What autogenerate compares: our tables, not PostGIS's nor the ones made at run time."""
    # Partitions of track_points are made month by month as fixes arrive; they are not drift.
    if type_ == "table" and name.startswith("track_points_"):
        return False
    # Managed by hand in the migrations, with no model: PostGIS's table and the audit chain head.
    if type_ == "table" and name in {"spatial_ref_sys", "audit_chain_head", "tombstone_horizon"}:
        return False
    return alembic_helpers.include_object(obj, name, type_, reflected, compare_to)


def alembic_config(url: str) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)


def heads() -> list[str]:
    """Every head of the revision graph: one, or two branches were merged without re-chaining."""
    return list(ScriptDirectory.from_config(alembic_config("postgresql://unused")).get_heads())


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("postgresql://unused")).get_current_head()


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def is_at_head(engine: Engine) -> bool:
    with engine.connect() as connection:
        return current_revision(connection) == head_revision()


if __name__ == "__main__":  # `make lint`: the migrations must form one line
    found = heads()
    if len(found) != 1:
        raise SystemExit(f"migrations: expected one Alembic head, found {len(found)}: {found}")
    print(f"migrations: one head, {found[0]}")
