"""Push handlers for seizures: created once from a device, then edited on a base version.

The checks and the writing are the seizures capability's (server.seizures.service), shared with
managers' requests; here they are wrapped in the push's ledger, clocks, conflicts and verdicts.
"""

from __future__ import annotations

import uuid
from typing import Any

from schemas.seizures import EDITABLE
from server.core.policy import Action
from server.seizures import service
from server.seizures.service import SeizureRefused
from server.sync.common import PushContext, Rejection, Verdict, keep_conflict
from server.sync.records import created
from sync.protocol import CONFLICT, STORED


def _may_record(ctx: PushContext) -> None:
    if not ctx.actor.may(Action.SEIZURE_RECORD, ctx.area_id):
        raise Rejection("forbidden", "/data", "your role may not record seizures")


def store_seizure(
    ctx: PushContext, record_id: uuid.UUID, data: dict, digest: bytes, raw: Any
) -> Verdict:
    if verdict := created(ctx, "seizure", record_id, digest, raw):
        return verdict
    _may_record(ctx)
    ctx.check_time(data["seized_at"], "/data/seized_at")
    try:
        service.check(ctx.session, ctx.area_id, data)
    except SeizureRefused as refused:
        raise Rejection(refused.reason, "/data" + refused.pointer, refused.detail) from None
    service.store(
        ctx.session,
        record_id,
        ctx.area_id,
        data,
        seized_at=ctx.corrected(data["seized_at"]),
        seized_at_device=data["seized_at"],
        device_id=ctx.device.id,
        user_id=ctx.actor.user_id,
        clock_suspect=ctx.clock_suspect,
    )
    return Verdict(str(record_id), "seizure", STORED, version=1)


def store_seizure_edit(ctx: PushContext, record_id: uuid.UUID, data: dict, raw: Any) -> Verdict:
    """An edit record whose target is a seizure (its ledger entry is already claimed)."""
    _may_record(ctx)
    changes, target_id = data["changes"], data["target_id"]
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise Rejection(
            "not-editable",
            f"/data/changes/{unknown[0]}",
            f"{unknown[0]!r} is not a field of a seizure; editable: {', '.join(EDITABLE)}",
        )
    try:
        parsed = service.parse(changes, tuple(changes))
    except SeizureRefused as refused:
        raise Rejection(
            "invalid-change", "/data/changes" + refused.pointer, refused.detail
        ) from None
    ctx.check_time(parsed.get("seized_at"), "/data/changes/seized_at")
    seizure = service.locked(ctx.session, target_id)
    if seizure is None or seizure.area_id != ctx.area_id:
        raise Rejection("unknown-target", "/data/target_id", "no such seizure in this area")
    if data["base_version"] != seizure.version:
        keep_conflict(
            ctx, "seizure", target_id, "stale-base", raw, data["base_version"], seizure.version
        )
        return Verdict(
            str(record_id),
            "edit",
            CONFLICT,
            code="stale-base",
            pointer="/data/base_version",
            detail=f"made on version {data['base_version']}, the seizure is at version "
            f"{seizure.version}; both kept for a manager to reconcile",
            version=seizure.version,
        )
    try:
        service.apply_changes(
            ctx.session,
            seizure,
            parsed,
            correct=ctx.corrected,
            device_id=ctx.device.id,
            user_id=ctx.actor.user_id,
            edit_id=record_id,
        )
    except SeizureRefused as refused:
        raise Rejection(refused.reason, "/data/changes" + refused.pointer, refused.detail) from None
    return Verdict(str(record_id), "edit", STORED, version=seizure.version)
