"""Plain helpers for tests of any folder (fixtures live in conftest.py)."""

from __future__ import annotations

import time

from sqlalchemy import text
from sqlalchemy.orm import Session


def count_rows(session: Session, table: str) -> int:
    return session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()


def wait_derived(conn, timeout_s: float = 30.0) -> None:
    """Wait until a served app's deriver has drawn every waiting patrol (server.sync.derived):
    `conn` is a psycopg connection to its database."""
    deadline = time.monotonic() + timeout_s
    while conn.execute("SELECT count(*) FROM derived_backlog").fetchone()[0]:
        assert time.monotonic() < deadline, "the deriver left patrols waiting"
        time.sleep(0.05)
