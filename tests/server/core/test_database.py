"""The schema itself: migrations both ways, the models matching them, the CHECK constraints that
keep bad geometry out, partitions, and the audit log's chain."""

from __future__ import annotations

import itertools

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from server.core.audit import record, verify_chain
from server.core.db import make_engine
from server.core.migrate import downgrade, head_revision, heads, include_object, upgrade
from server.core.policy import SYSTEM
from server.models import metadata
from tests import factories


@pytest.fixture
def empty_database(pg_cluster):
    pg_cluster.drop_database("rangersync_migrations")
    pg_cluster.ensure_database("rangersync_migrations")
    yield pg_cluster.url("rangersync_migrations")
    pg_cluster.drop_database("rangersync_migrations")


def test_migrations_go_up_down_and_up_again(empty_database):
    upgrade(empty_database)
    downgrade(empty_database, "base")
    engine = make_engine(empty_database)
    with engine.connect() as conn:
        tables = (
            conn.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                    " AND tablename <> 'alembic_version' AND tablename <> 'spatial_ref_sys'"
                )
            )
            .scalars()
            .all()
        )
        assert tables == []
    upgrade(empty_database)
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == head_revision()
    engine.dispose()


def test_models_and_migrations_agree(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"include_object": include_object, "compare_type": True}
        )
        assert compare_metadata(context, metadata) == []


def test_migrations_form_one_line():
    assert len(heads()) == 1, heads()


@pytest.mark.parametrize(
    "wkt",
    [
        "MULTIPOLYGON(((200 0, 201 0, 201 1, 200 0)))",  # longitude out of range
        "MULTIPOLYGON(((0 95, 1 95, 1 96, 0 95)))",  # latitude out of range
        "MULTIPOLYGON(((0 0, 1 1, 1 0, 0 1, 0 0)))",  # bow-tie: self-intersecting
        "MULTIPOLYGON EMPTY",
    ],
)
def test_database_refuses_bad_boundaries(db, wkt):
    with pytest.raises(IntegrityError, match="ck_areas_boundary_valid"):
        db.execute(
            text(
                "INSERT INTO areas (id, slug, name, boundary, timezone)"
                " VALUES (gen_random_uuid(), 'bad', 'Bad', ST_GeomFromText(:wkt, 4326), 'UTC')"
            ),
            {"wkt": wkt},
        )


def test_database_refuses_nan_coordinates(db):
    park = factories.area(db)
    with pytest.raises(IntegrityError, match="ck_map_features_geom_valid"):
        db.execute(
            text(
                "INSERT INTO map_features (id, area_id, layer, geom, properties, version)"
                " VALUES (gen_random_uuid(), :area, 'landmark',"
                " ST_SetSRID(ST_MakePoint('NaN'::float8, 0), 4326), '{}', 1)"
            ),
            {"area": park.id},
        )


def test_database_refuses_unclosed_rings(db):
    # PostGIS will not even build it from text; from WKB it would, and the CHECK must hold.
    with pytest.raises(DBAPIError):
        db.execute(
            text(
                "INSERT INTO areas (id, slug, name, boundary, timezone)"
                " VALUES (gen_random_uuid(), 'open', 'Open',"
                " ST_GeomFromText('MULTIPOLYGON(((0 0, 1 0, 1 1, 0 1)))', 4326), 'UTC')"
            )
        )


def test_track_points_are_partitioned_by_patrol_month(db):
    assert (
        db.execute(text("SELECT rs_ensure_track_partition('2026-03-17')")).scalar()
        == "track_points_2026_03"
    )
    assert (
        db.execute(text("SELECT rs_ensure_track_partition('2026-03-01')")).scalar()
        == "track_points_2026_03"
    )
    bounds = db.execute(
        text(
            "SELECT pg_get_expr(relpartbound, oid) FROM pg_class"
            " WHERE relname = 'track_points_2026_03'"
        )
    ).scalar()
    assert bounds == "FOR VALUES FROM ('2026-03-01') TO ('2026-04-01')"


def test_audit_log_chains_and_refuses_changes(db):
    for n in range(3):
        record(db, SYSTEM, "test.event", "thing", n, number=n)
    db.flush()
    rows = db.execute(text("SELECT id, prev_hash, hash FROM audit_log ORDER BY id")).all()
    for previous, current in itertools.pairwise(rows):
        assert current.prev_hash == previous.hash
    assert verify_chain(db).intact
    for statement in ("UPDATE audit_log SET action = 'forged'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"), db.begin_nested():
            db.execute(text(statement))


def test_audit_verification_finds_tampering(db):
    for n in range(3):
        record(db, SYSTEM, "test.event", "thing", n)
    db.flush()
    last = db.execute(text("SELECT max(id) FROM audit_log")).scalar()
    # Someone with enough power to switch the guard off edits an entry.
    db.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
    db.execute(
        text("UPDATE audit_log SET details = '{\"number\": 99}' WHERE id = :id"), {"id": last - 1}
    )
    db.execute(text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only"))
    check = verify_chain(db)
    assert not check.intact and check.first_broken_id == last - 1
