"""Test fixtures: a throwaway PostGIS cluster for each test process (each xdist worker has its own,
named after the worker), one database migrated to head by Alembic and copied (CREATE DATABASE …
TEMPLATE) for everything else, each test inside an outer transaction rolled back at the end
(savepoints for its commits), and one shared `rangersync serve` over a copy of the demo park."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import argon2
import pytest
from playwright.sync_api import sync_playwright
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from server.accounts import passwords
from server.app import create_app
from server.config import Config
from server.core.db import make_engine
from server.core.migrate import upgrade
from server.core.pgcluster import Cluster, free_port
from server.demo.seed import seed
from tests import live

TEMPLATE_DATABASE = "rangersync_template"
TEST_DATABASE = "rangersync_test"
DEMO_DATABASE = "rangersync_demo"
# "gw0", "gw1"… under pytest-xdist; "main" when the tests run in this one process.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
# Chromium for the browser tests (Debian's), headless; WebGL for the dashboard's map through ANGLE
# on SwiftShader, the software renderer, since there is no GPU.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--use-gl=angle",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def pytest_configure(config: pytest.Config) -> None:
    # Test users are hashed, and signed in, with argon2's cheapest parameters: at full cost, the
    # hashing was most of the time of every test that creates a user. Servers started by the tests
    # (tests/live.py) are separate processes and keep the full cost.
    passwords.use_parameters(argon2.profiles.CHEAPEST)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    root = Path(tempfile.mkdtemp(prefix=f"rangersync-test-pg-{WORKER}-"))
    cluster = Cluster(root, free_port(), unsafe_fast=True)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture(scope="session")
def template_database(pg_cluster: Cluster) -> str:
    """A migrated database nobody connects to, to copy (CREATE DATABASE … TEMPLATE) in a blink:
    the suite runs the migrations once per process, here."""
    pg_cluster.drop_database(TEMPLATE_DATABASE)
    pg_cluster.ensure_database(TEMPLATE_DATABASE)
    upgrade(pg_cluster.url(TEMPLATE_DATABASE))
    return TEMPLATE_DATABASE


@pytest.fixture(scope="session")
def database_url(pg_cluster: Cluster, template_database: str) -> str:
    pg_cluster.drop_database(TEST_DATABASE)
    pg_cluster.create_database_from(TEST_DATABASE, template_database)
    return pg_cluster.url(TEST_DATABASE)


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
    # Rate limits are committed on connections of their own (a failed sign-in counts even
    # when its request rolls back), so they outlive the test's transaction: forget them here.
    base_app.extensions["rangersync.limits"].reset()


@pytest.fixture
def client(app):
    return app.test_client()


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
def demo_template(pg_cluster: Cluster, template_database: str) -> str:
    """The demo park, migrated and seeded once, for every live server to start from a copy of:
    what `rangersync serve` would otherwise do for each server on its first start. Its accounts
    get this process's cheap hash; a server rehashes each at full cost at its first sign-in."""
    pg_cluster.drop_database(DEMO_DATABASE)
    pg_cluster.create_database_from(DEMO_DATABASE, template_database)
    engine = make_engine(pg_cluster.url(DEMO_DATABASE))
    with sessionmaker(bind=engine)() as session:
        seed(session)
        session.commit()
    engine.dispose()
    return DEMO_DATABASE


@pytest.fixture(scope="session")
def live_servers(
    pg_cluster: Cluster, demo_template: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[live.Servers]:
    """Starts `rangersync serve` processes over copies of the demo park; all stopped at the end."""
    servers = live.Servers(pg_cluster, demo_template, tmp_path_factory.mktemp("live"))
    yield servers
    servers.stop_all()


@pytest.fixture(scope="session")
def live_server(live_servers: live.Servers) -> live.LiveServer:
    """The one server of this test process, shared by every test that needs the network but not a
    park of its own: such a test enrols its own devices and records its own reports, and asserts
    on what it made or on what no other test takes away (the seeded accounts, layers, patrols),
    never on the park holding nothing but the seed. Those that do start their own server."""
    return live_servers.start("shared")


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium per test process; each test opens its own context (cookies, pages)."""
    executable = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def artifacts_dir() -> Path:
    path = Path(os.environ.get("TEST_ARTIFACTS", "test-artifacts"))
    path.mkdir(parents=True, exist_ok=True)
    return path
