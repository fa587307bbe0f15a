"""What the analytics services share: the area a caller may analyse, periods, the grid size."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from server.analytics.models import DEFAULT_CELL_M, CoverageSetting
from server.areas.service import area_id_of
from server.core.errors import Invalid
from server.core.policy import Action, Actor, authorize

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


def period(start: date | None, end: date | None, days: int = DEFAULT_DAYS) -> Period:
    end = end or (start + timedelta(days=days - 1) if start else datetime.now(UTC).date())
    start = start or end - timedelta(days=days - 1)
    if end < start:
        raise Invalid("the period ends before it starts", errors={"end": ["before start"]})
    if (end - start).days >= MAX_PERIOD_DAYS:
        raise Invalid(
            f"a period spans at most {MAX_PERIOD_DAYS} days", errors={"start": ["too early"]}
        )
    return Period(start, end)


def analysed_area(
    session: Session, actor: Actor, key: str | uuid.UUID, action: Action = Action.ANALYTICS_VIEW
) -> uuid.UUID:
    """The area's id if the actor may analyse it: 404 when it is not theirs, 403 for a role that
    may not (rangers and partners never see where patrols have and have not been)."""
    area_id = area_id_of(session, actor, key)
    authorize(actor, action, area_id, "area")
    return area_id


def cell_size(session: Session, area_id: uuid.UUID) -> int:
    size = session.scalar(select(CoverageSetting.cell_m).where(CoverageSetting.area_id == area_id))
    return size or DEFAULT_CELL_M


def area_timezone(session: Session, area_id: uuid.UUID) -> str:
    return session.execute(
        text("SELECT timezone FROM areas WHERE id = :a"), {"a": area_id}
    ).scalar_one()
