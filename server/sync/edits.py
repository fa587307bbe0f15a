"""Push handler for edits of mutable records (reports, patrols, legs, seizures): optimistic
versions.

An edit names the version it was made on. On the current version it applies and makes the next
version; on an older one it is a conflict — kept with every version, flagged for a manager —
and never a silent last-writer-wins by device clock.
"""

from __future__ import annotations

import uuid
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from schemas.sync import PatrolIn, PatrolLegIn, ReportIn
from server.accounts.models import User
from server.core.db import utcnow
from server.core.policy import Action
from server.patrols.models import Patrol, PatrolLeg, PatrolMember
from server.reports.models import STATUS_TRANSITIONS, Report, ReportCategory
from server.sync.common import PushContext, Rejection, Verdict, keep_conflict
from server.sync.records import (
    check_attributes,
    created,
    patrol_snapshot,
    report_snapshot,
    user_ids,
    version_snapshot,
)
from server.sync.seizures import store_seizure_edit
from sync.protocol import CONFLICT, STORED

EDITABLE = {
    "report": ("attributes", "notes", "priority", "status"),
    "patrol": ("ended_at", "objective", "armed", "transport", "mandate", "planned_end", "members"),
    "patrol_leg": ("ended_at", "transport", "leader"),
}
MODELS = {"report": Report, "patrol": Patrol, "patrol_leg": PatrolLeg}
CHANGE_SCHEMAS = {
    "report": ReportIn(only=("attributes", "notes", "priority"), partial=True),
    "patrol": PatrolIn(only=EDITABLE["patrol"], partial=True),
    "patrol_leg": PatrolLegIn(only=EDITABLE["patrol_leg"], partial=True),
}


def _checked_changes(ctx: PushContext, target: str, changes: dict) -> dict:
    unknown = sorted(set(changes) - set(EDITABLE[target]))
    if unknown:
        raise Rejection(
            "not-editable",
            f"/data/changes/{unknown[0]}",
            f"{unknown[0]!r} cannot be edited; editable: {', '.join(EDITABLE[target])}",
        )
    plain = {k: v for k, v in changes.items() if k != "status"}
    try:
        # Only what was sent: a partial load still fills in defaults (members=[], armed=False).
        checked = {k: v for k, v in CHANGE_SCHEMAS[target].load(plain).items() if k in plain}
    except ValidationError as error:
        field, messages = next(iter(error.normalized_messages().items()))
        raise Rejection(
            "invalid-change", f"/data/changes/{field}", "; ".join(map(str, messages))
        ) from None
    if "status" in changes:
        if changes["status"] not in STATUS_TRANSITIONS:
            raise Rejection("invalid-change", "/data/changes/status", "not a report status")
        checked["status"] = changes["status"]
    ctx.check_time(checked.get("ended_at"), "/data/changes/ended_at")
    ctx.check_plan(checked.get("planned_end"), "/data/changes/planned_end")
    return checked


def _locked_target(session: Session, ctx: PushContext, target: str, target_id: uuid.UUID):
    model = MODELS[target]
    row = session.scalar(select(model).where(model.id == target_id).with_for_update())
    if row is None or row.area_id != ctx.area_id:
        raise Rejection("unknown-target", "/data/target_id", f"no such {target} in this area")
    return row


def store_edit(
    ctx: PushContext, record_id: uuid.UUID, data: dict, digest: bytes, raw: Any
) -> Verdict:
    if verdict := created(ctx, "edit", record_id, digest, raw):
        return verdict
    target, target_id = data["target"], data["target_id"]
    if target == "seizure":
        return store_seizure_edit(ctx, record_id, data, raw)
    changes = _checked_changes(ctx, target, data["changes"])
    row = _locked_target(ctx.session, ctx, target, target_id)
    if data["base_version"] != row.version:
        keep_conflict(ctx, target, target_id, "stale-base", raw, data["base_version"], row.version)
        return Verdict(
            str(record_id),
            "edit",
            CONFLICT,
            code="stale-base",
            pointer="/data/base_version",
            detail=f"made on version {data['base_version']}, the {target} is at version "
            f"{row.version}; both kept for a manager to reconcile",
            version=row.version,
        )
    snapshot = APPLY[target](ctx, row, changes)
    row.version += 1
    if hasattr(row, "updated_at"):
        row.updated_at = utcnow()
    version_snapshot(ctx, target, target_id, row.version, snapshot, edit_id=record_id)
    return Verdict(str(record_id), "edit", STORED, version=row.version)


def _apply_report(ctx: PushContext, report: Report, changes: dict) -> dict:
    if "attributes" in changes:
        category = ctx.session.get(ReportCategory, report.category_id)
        check_attributes(category, changes["attributes"], "/data/changes/attributes")
    if "status" in changes and changes["status"] != report.status:
        if not ctx.actor.may(Action.REPORT_TRIAGE, report.area_id):
            raise Rejection(
                "forbidden", "/data/changes/status", "your role may not change a report's status"
            )
        if changes["status"] not in STATUS_TRANSITIONS[report.status]:
            raise Rejection(
                "invalid-transition",
                "/data/changes/status",
                f"a report goes from {report.status} to "
                f"{' or '.join(sorted(STATUS_TRANSITIONS[report.status])) or 'nowhere'}",
            )
    for name, value in changes.items():
        setattr(report, name, value)
    return report_snapshot(report)


def _apply_patrol(ctx: PushContext, patrol: Patrol, changes: dict) -> dict:
    if "ended_at" in changes and changes["ended_at"] is not None:
        changes["ended_at"] = ctx.corrected(changes["ended_at"])
        if changes["ended_at"] < patrol.started_at:
            raise Rejection(
                "ends-before-start", "/data/changes/ended_at", "the patrol ends before it starts"
            )
    members = changes.pop("members", None)
    if members is not None:
        ids = user_ids(ctx, members, "/data/changes/members")
        ctx.session.execute(delete(PatrolMember).where(PatrolMember.patrol_id == patrol.id))
        ctx.session.add_all(
            PatrolMember(patrol_id=patrol.id, user_id=m, area_id=ctx.area_id)
            for m in dict.fromkeys(ids)
        )
    for name, value in changes.items():
        setattr(patrol, name, value)
    names = members if members is not None else _member_names(ctx.session, patrol.id)
    return patrol_snapshot(patrol, names)


def _member_names(session: Session, patrol_id: uuid.UUID) -> list[str]:
    return list(
        session.scalars(
            select(User.username)
            .join(PatrolMember, PatrolMember.user_id == User.id)
            .where(PatrolMember.patrol_id == patrol_id)
            .order_by(User.username)
        )
    )


def _apply_leg(ctx: PushContext, leg: PatrolLeg, changes: dict) -> dict:
    if changes.get("ended_at") is not None:
        changes["ended_at"] = ctx.corrected(changes["ended_at"])
        if changes["ended_at"] < leg.started_at:
            raise Rejection(
                "ends-before-start", "/data/changes/ended_at", "the leg ends before it starts"
            )
    if "leader" in changes:
        leader = changes.pop("leader")
        changes["leader_id"] = (
            user_ids(ctx, [leader], "/data/changes/leader")[0] if leader else None
        )
    for name, value in changes.items():
        setattr(leg, name, value)
    return {
        "ended_at": leg.ended_at.isoformat() if leg.ended_at else None,
        "transport": leg.transport,
        "leader_id": str(leg.leader_id) if leg.leader_id else None,
    }


APPLY = {"report": _apply_report, "patrol": _apply_patrol, "patrol_leg": _apply_leg}
