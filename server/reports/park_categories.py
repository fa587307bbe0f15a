"""A park's own report categories: admins add them and change them; every change is a new
version, the old ones kept, so that a report filled in on a form of an older version (a device
that has not pulled since) is still checked against what it was made with.

Categories reach devices by the pull (their change_xid moves with each version). A park's key
never shadows a standard category's; a retired category stays for the reports that use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from schemas import attributes as attribute_rules
from server.areas.service import area_id_of
from server.core import audit
from server.core.db import utcnow
from server.core.errors import Invalid
from server.core.policy import Action, Actor, authorize
from server.reports.models import ReportCategory, ReportCategoryVersion

VERSIONED = ("label", "attribute_schema", "geometry_kind")


@dataclass(frozen=True)
class CategoryResult:
    key: str
    label: str
    version: int
    action: str  # added, changed, unchanged


def category_in_area(session: Session, area_id, key: str) -> ReportCategory | None:
    """The category a report of this area names: a standard one, or the park's own."""
    return session.scalar(
        select(ReportCategory).where(
            ReportCategory.key == key,
            ReportCategory.retired_at.is_(None),
            or_(ReportCategory.area_id.is_(None), ReportCategory.area_id == area_id),
        )
    )


def version_of(
    session: Session, category: ReportCategory, version: int
) -> ReportCategoryVersion | None:
    return session.get(ReportCategoryVersion, (category.id, version))


def put_categories(
    session: Session, actor: Actor, area_key: str, specs: list[dict[str, Any]]
) -> list[CategoryResult]:
    """Add or change the park's categories (each spec loaded by schemas.reports.CategoryIn):
    unchanged ones stay at their version, changed ones get the next; all or nothing."""
    area_id = area_id_of(session, actor, area_key)
    authorize(actor, Action.AREA_EDIT, area_id, "area")
    keys = [spec["key"] for spec in specs]
    if len(set(keys)) != len(keys):
        raise Invalid("a key appears twice", errors={"key": ["duplicate"]})
    standard = set(
        session.scalars(
            select(ReportCategory.key).where(
                ReportCategory.area_id.is_(None), ReportCategory.key.in_(keys)
            )
        )
    )
    if standard:
        raise Invalid(
            f"{', '.join(sorted(standard))}: a standard category; give the park's own a key of "
            "its own",
            errors={"key": ["standard category"]},
        )
    results = []
    for i, spec in enumerate(specs):
        if problems := attribute_rules.schema_problems(spec["attribute_schema"]):
            where, message = problems[0]
            raise Invalid(
                f"{spec['key']}: attribute_schema{where.rstrip('/')}: {message}",
                errors={f"{i}.attribute_schema": [f"{p} {m}" for p, m in problems]},
            )
        results.append(_put(session, actor, area_id, spec))
    return results


def _put(session: Session, actor: Actor, area_id, spec: dict[str, Any]) -> CategoryResult:
    category = session.scalar(
        select(ReportCategory)
        .where(ReportCategory.area_id == area_id, ReportCategory.key == spec["key"])
        .with_for_update()
    )
    parent_key = spec["key"].rpartition(".")[0]
    parent = category_in_area(session, area_id, parent_key) if parent_key else None
    if parent_key and parent is None:
        raise Invalid(
            f"{spec['key']}: no parent category {parent_key!r} (add it first, or in the same file)",
            errors={"key": ["unknown parent"]},
        )
    retired_at = utcnow() if spec.get("retired") else None
    if category is None:
        category = ReportCategory(area_id=area_id, key=spec["key"], version=1)
        session.add(category)
        action = "added"
    else:
        changed = any(getattr(category, name) != spec[name] for name in VERSIONED)
        flags = (category.hostile, category.sensitive, category.retired_at is not None)
        if not changed and flags == (spec["hostile"], spec["sensitive"], bool(retired_at)):
            return CategoryResult(category.key, category.label, category.version, "unchanged")
        action = "changed"
        if changed:
            category.version += 1
    category.parent_id = parent.id if parent else None
    category.label = spec["label"]
    category.attribute_schema = spec["attribute_schema"]
    category.geometry_kind = spec["geometry_kind"]
    category.hostile = spec["hostile"]
    category.sensitive = spec["sensitive"]
    category.retired_at = category.retired_at or retired_at if spec.get("retired") else None
    session.flush()
    if session.get(ReportCategoryVersion, (category.id, category.version)) is None:
        session.add(
            ReportCategoryVersion(
                category_id=category.id,
                version=category.version,
                label=category.label,
                attribute_schema=category.attribute_schema,
                geometry_kind=category.geometry_kind,
                changed_by=actor.user_id,
            )
        )
    audit.record(
        session,
        actor,
        f"category.{'create' if action == 'added' else 'update'}",
        "report_category",
        category.id,
        area_id=area_id,
        key=category.key,
        version=category.version,
    )
    session.flush()
    return CategoryResult(category.key, category.label, category.version, action)
