"""Plain helpers for tests of any folder (fixtures live in conftest.py)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session


def count_rows(session: Session, table: str) -> int:
    return session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
