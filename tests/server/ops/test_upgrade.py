"""`rangersync db upgrade` on a populated database: a park filled through the API, taken back
to the previous release's schema (its tables keep their rows), then upgraded by the real command
and served again, with nothing lost and the audit chain intact."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from server.core.db import make_engine
from server.core.migrate import head_revision
from server.demo.seed import DEMO_PASSWORD
from server.ops.verify import row_counts
from sync.device.simulate import run_fleet
from tests.helpers import wait_derived
from tests.server.ops.helpers import Installation, open_dir

pytestmark = pytest.mark.slow
# The schema of the release before this one: the last revision the previous release shipped.
# Bump it when a release is cut, so each release is tested upgrading from the one before.
PREVIOUS_RELEASE = "0005"
# Tables the previous release already had: their rows must cross the upgrade unchanged.
KEPT = ("areas", "users", "devices", "patrols", "track_points", "reports", "attachments")


def _counts(park: Installation) -> dict:
    engine = make_engine(park.cluster.url())
    with Session(engine) as session:
        rows = row_counts(session)
        revision = session.scalar(text("SELECT version_num FROM alembic_version"))
        effort = session.scalar(text("SELECT count(*) FROM patrol_effort"))
    engine.dispose()
    return {"rows": rows, "revision": revision, "effort": effort}


def test_db_upgrade_from_the_previous_release_keeps_every_row_and_serves_it():
    park = Installation(open_dir("rangersync-upgrade-"))
    try:
        server = park.serve()
        result = run_fleet(
            server.url,
            password=DEMO_PASSWORD,
            devices=2,
            hours=0.5,
            photo_rate=1.0,
            workdir=open_dir("rangersync-upgrade-fleet-"),
            say=lambda _: None,
        )
        assert result.complete
        url = park.cluster.url().replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(url) as conn:
            wait_derived(conn)  # effort is drawn after the pushes' answers (server.sync.derived)
        server.stop()
        filled = _counts(park)
        assert filled["rows"]["track_points"] > 0 and filled["effort"] > 0

        park.rangersync("db", "downgrade", PREVIOUS_RELEASE)
        engine = make_engine(park.cluster.url())
        with Session(engine) as session:
            old = {t: session.scalar(text(f"SELECT count(*) FROM {t}")) for t in KEPT}
        engine.dispose()
        assert old == {t: filled["rows"][t] for t in KEPT}

        upgraded = park.rangersync("db", "upgrade")
        assert "database at head" in upgraded.stdout
        after = _counts(park)
        assert after["revision"] == head_revision()
        assert {t: after["rows"][t] for t in KEPT} == old
        assert "audit chain intact" in park.rangersync("audit", "verify").stdout

        # Tables the upgrade created start empty; derived ones are rebuilt from the fixes, as
        # the deploy README's upgrade procedure says.
        park.rangersync("analytics", "rebuild", "--area", "demo")
        assert _counts(park)["effort"] == filled["effort"]

        server = park.serve()
        status, token = server.http.json(
            "POST", "/api/v1/auth/token", {"username": "manager", "password": DEMO_PASSWORD}
        )
        assert status == 201
        status, patrols = server.http.json(
            "GET", "/api/v1/areas/demo/patrols", token=token["access_token"]
        )
        assert status == 200 and len(patrols) >= 2
        server.stop()
    finally:
        park.destroy()
