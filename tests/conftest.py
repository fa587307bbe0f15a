"""Test fixtures: a throwaway PostGIS cluster for the whole session, migrated to head by Alembic,
and each test inside an outer transaction rolled back at the end (savepoints for its commits)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from server.app import create_app
from server.config import Config
from server.core.db import make_engine
from server.core.migrate import upgrade
from server.core.pgcluster import Cluster, free_port
from tests import live

TEST_DATABASE = "rangersync_test"


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    root = Path(tempfile.mkdtemp(prefix="rangersync-test-pg-"))
    cluster = Cluster(root, free_port(), unsafe_fast=True)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture(scope="session")
def database_url(pg_cluster: Cluster) -> str:
    pg_cluster.ensure_database(TEST_DATABASE)
    url = pg_cluster.url(TEST_DATABASE)
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as connection:
        outer = connection.begin()
        yield connection
        outer.rollback()


@pytest.fixture
def session_factory(connection: Connection) -> sessionmaker:
    return sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )


@pytest.fixture
def db(session_factory: sessionmaker) -> Iterator[Session]:
    session = session_factory()
    yield session
    session.close()


@pytest.fixture(scope="session")
def test_config(tmp_path_factory: pytest.TempPathFactory) -> Config:
    var_dir = tmp_path_factory.mktemp("var")
    return Config.from_env(
        {
            "RANGERSYNC_VAR_DIR": str(var_dir),
            "SECRET_KEY": "test-secret",
            "MAX_REQUEST_BYTES": "65536",
        }
    )


@pytest.fixture(scope="session")
def base_app(test_config: Config, engine: Engine):
    return create_app(test_config, engine=engine)


@pytest.fixture
def app(base_app, session_factory: sessionmaker):
    """The app, with every request's session inside this test's transaction."""
    state = base_app.extensions["rangersync"]
    original = state.session_factory
    state.session_factory = session_factory
    yield base_app
    state.session_factory = original


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def template_database(pg_cluster: Cluster) -> str:
    """A migrated database nobody connects to, to copy (CREATE DATABASE … TEMPLATE) in a blink."""
    pg_cluster.drop_database("rangersync_template")
    pg_cluster.ensure_database("rangersync_template")
    upgrade(pg_cluster.url("rangersync_template"))
    return "rangersync_template"


_fresh_serial = iter(range(1, 1_000_000))


@pytest.fixture
def fresh_engine(pg_cluster: Cluster, template_database: str) -> Iterator[Engine]:
    """A database of this test's own, for tests that need real commits seen by other
    connections (transaction ids, concurrency): the rolled-back-transaction isolation cannot."""
    name = f"rangersync_fresh_{os.getpid()}_{next(_fresh_serial)}"
    pg_cluster.create_database_from(name, template_database)
    engine = make_engine(pg_cluster.url(name), pool_size=25, max_overflow=5)
    yield engine
    engine.dispose()
    pg_cluster.drop_database(name)


@pytest.fixture
def committed_db(fresh_engine: Engine) -> Iterator[Session]:
    session = sessionmaker(bind=fresh_engine, expire_on_commit=False)()
    yield session
    session.close()


@pytest.fixture
def committed_client(test_config: Config, fresh_engine: Engine):
    return create_app(test_config, engine=fresh_engine).test_client()


@pytest.fixture(scope="session")
def live_server(pg_cluster: Cluster, tmp_path_factory: pytest.TempPathFactory):
    server = live.start(pg_cluster, tmp_path_factory.mktemp("live"))
    yield server
    server.stop()
    pg_cluster.drop_database(live.DATABASE)


@pytest.fixture
def artifacts_dir() -> Path:
    path = Path(os.environ.get("TEST_ARTIFACTS", "test-artifacts"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def count_rows(session: Session, table: str) -> int:
    return session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
