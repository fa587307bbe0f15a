"""What the analytics services share: periods, the grid size, the area's time zone."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from server.analytics.models import DEFAULT_CELL_M, CoverageSetting
from server.core.errors import Invalid

DEFAULT_DAYS = 30
MAX_PERIOD_DAYS = 3660


@dataclass(frozen=True)
class Period:
    """Whole days, both ends included, in the area's local time."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def period(
    start: date | None, end: date | None, days: int = DEFAULT_DAYS, today: date | None = None
) -> Period:
    """The days asked for; left open, the `days` ending today in the park (`today`, from
    `park_today`; UTC's date when not given)."""
    end = end or (start + timedelta(days=days - 1) if start else today or datetime.now(UTC).date())
    start = start or end - timedelta(days=days - 1)
    if end < start:
        raise Invalid("the period ends before it starts", errors={"end": ["before start"]})
    if (end - start).days >= MAX_PERIOD_DAYS:
        raise Invalid(
            f"a period spans at most {MAX_PERIOD_DAYS} days", errors={"start": ["too early"]}
        )
    return Period(start, end)


def cell_size(session: Session, area_id: uuid.UUID) -> int:
    size = session.scalar(select(CoverageSetting.cell_m).where(CoverageSetting.area_id == area_id))
    return size or DEFAULT_CELL_M


def park_today(session: Session, area_id: uuid.UUID) -> date:
    """Today's date where the park is: a period's default end."""
    return datetime.now(ZoneInfo(area_timezone(session, area_id))).date()


def area_timezone(session: Session, area_id: uuid.UUID) -> str:
    return session.execute(
        text("SELECT timezone FROM areas WHERE id = :a"), {"a": area_id}
    ).scalar_one()
