"""Push handlers for patrols, legs, reports, attachments and device status: create-once records.

Each handler gets the checked data and answers a Verdict, or raises Rejection. It runs inside
its own savepoint, so a failure leaves nothing of the record behind.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from geoalchemy2.shape import from_shape
from sqlalchemy import select, text, update

from schemas import attributes as attribute_rules
from server.accounts.models import Membership, Team, User
from server.core.versions import RecordVersion
from server.devices.models import Device
from server.patrols.models import Patrol, PatrolLeg, PatrolMember
from server.reports.models import Attachment, Report, ReportCategory, ReportCategoryVersion
from server.reports.park_categories import category_in_area, version_of
from server.sync.common import PushContext, Rejection, Verdict, claim, keep_conflict
from server.sync.models import DeviceStatus
from sync.protocol import CONFLICT, DUPLICATE, STORED


def created(
    ctx: PushContext, kind: str, record_id: uuid.UUID, digest: bytes, raw: Any
) -> Verdict | None:
    """The ledger's answer for a create-once record, or None when it is new and must be stored.

    Handlers ask first, before any check: a retry of a stored record is a duplicate even if
    something it depends on has changed since (a category retired, a newer envelope clock)."""
    outcome = claim(ctx, kind, record_id, digest)
    if outcome == "new":
        return None
    if outcome == "duplicate":
        return Verdict(str(record_id), kind, DUPLICATE)
    keep_conflict(ctx, kind, record_id, "content-differs", raw)
    return Verdict(
        str(record_id),
        kind,
        CONFLICT,
        code="content-differs",
        detail="a record with this id but other content is already stored; both are kept "
        "and a manager will decide",
    )


def version_snapshot(
    ctx: PushContext, kind: str, record_id, version: int, data: dict, edit_id=None
):
    ctx.session.add(
        RecordVersion(
            kind=kind,
            record_id=record_id,
            version=version,
            area_id=ctx.area_id,
            data=data,
            edit_id=edit_id,
            device_id=ctx.device.id,
            user_id=ctx.actor.user_id,
        )
    )


def user_ids(ctx: PushContext, usernames: list[str], pointer: str) -> list[uuid.UUID]:
    """Usernames → ids of people with a role in this area; unknown names are rejected."""
    missing = [u for u in usernames if u not in ctx.usernames]
    if missing:
        rows = ctx.session.execute(
            select(User.username, User.id)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.area_id == ctx.area_id, User.username.in_(missing))
        )
        ctx.usernames.update(dict(rows.all()))
    for i, username in enumerate(usernames):
        if username not in ctx.usernames:
            raise Rejection(
                "unknown-user",
                f"{pointer}/{i}" if pointer.endswith("members") else pointer,
                f"{username!r} has no role in this area",
            )
    return [ctx.usernames[u] for u in usernames]


def _patrol_in_area(ctx: PushContext, patrol_id: uuid.UUID, pointer: str) -> None:
    area = ctx.remembered(
        ("patrol-area", patrol_id),
        lambda: ctx.session.scalar(select(Patrol.area_id).where(Patrol.id == patrol_id)),
    )
    if area != ctx.area_id:
        raise Rejection(
            "unknown-patrol", pointer, "no such patrol in this area (send the patrol first)"
        )


def patrol_snapshot(patrol: Patrol, members: list[str]) -> dict:
    return {
        "patrol_type": patrol.patrol_type,
        "transport": patrol.transport,
        "mandate": patrol.mandate,
        "team_id": str(patrol.team_id) if patrol.team_id else None,
        "leader_id": str(patrol.leader_id) if patrol.leader_id else None,
        "members": members,
        "armed": patrol.armed,
        "objective": patrol.objective,
        "planned_start": _iso(patrol.planned_start),
        "planned_end": _iso(patrol.planned_end),
        "started_at": _iso(patrol.started_at),
        "ended_at": _iso(patrol.ended_at),
    }


def _iso(value):
    return value.isoformat() if value is not None else None


def store_patrol(
    ctx: PushContext, record_id: uuid.UUID, data: dict, digest: bytes, raw: Any
) -> Verdict:
    if verdict := created(ctx, "patrol", record_id, digest, raw):
        return verdict
    for name in ("started_at", "ended_at"):
        ctx.check_time(data.get(name), f"/data/{name}")
    for name in ("planned_start", "planned_end"):  # plans may lie ahead of the device's clock
        ctx.check_plan(data.get(name), f"/data/{name}")
    if data.get("ended_at") and data["ended_at"] < data["started_at"]:
        raise Rejection("ends-before-start", "/data/ended_at", "the patrol ends before it starts")
    if (
        data.get("planned_start")
        and data.get("planned_end")
        and data["planned_end"] < data["planned_start"]
    ):
        raise Rejection("ends-before-start", "/data/planned_end", "the plan ends before it starts")
    if data.get("team_id"):
        team = ctx.session.get(Team, data["team_id"])
        if team is None or team.area_id != ctx.area_id:
            raise Rejection("unknown-team", "/data/team_id", "no such team in this area")
    leader = user_ids(ctx, [data["leader"]], "/data/leader")[0] if data.get("leader") else None
    members = user_ids(ctx, data["members"], "/data/members")
    started = ctx.corrected(data["started_at"])
    patrol = Patrol(
        id=record_id,
        area_id=ctx.area_id,
        device_id=ctx.device.id,
        patrol_type=data["patrol_type"],
        transport=data.get("transport"),
        mandate=data.get("mandate"),
        team_id=data.get("team_id"),
        leader_id=leader,
        armed=data["armed"],
        objective=data.get("objective"),
        planned_start=data.get("planned_start"),  # plans are made by people, not clocks
        planned_end=data.get("planned_end"),
        started_at=started,
        started_at_device=data["started_at"],
        ended_at=ctx.corrected(data["ended_at"]) if data.get("ended_at") else None,
        clock_suspect=ctx.clock_suspect,
        track_month=date(started.year, started.month, 1),
    )
    ctx.session.add(patrol)
    ctx.session.flush()
    ctx.session.add_all(
        PatrolMember(patrol_id=record_id, user_id=m, area_id=ctx.area_id)
        for m in dict.fromkeys(members)
    )
    version_snapshot(ctx, "patrol", record_id, 1, patrol_snapshot(patrol, data["members"]))
    ctx.remember(("patrol-area", record_id), ctx.area_id)
    return Verdict(str(record_id), "patrol", STORED, version=1)


def store_leg(
    ctx: PushContext, record_id: uuid.UUID, data: dict, digest: bytes, raw: Any
) -> Verdict:
    if verdict := created(ctx, "patrol_leg", record_id, digest, raw):
        return verdict
    for name in ("started_at", "ended_at"):
        ctx.check_time(data.get(name), f"/data/{name}")
    if data.get("ended_at") and data["ended_at"] < data["started_at"]:
        raise Rejection("ends-before-start", "/data/ended_at", "the leg ends before it starts")
    _patrol_in_area(ctx, data["patrol_id"], "/data/patrol_id")
    leader = user_ids(ctx, [data["leader"]], "/data/leader")[0] if data.get("leader") else None
    taken = ctx.session.scalar(
        select(PatrolLeg.id).where(
            PatrolLeg.patrol_id == data["patrol_id"], PatrolLeg.leg_number == data["leg_number"]
        )
    )
    if taken is not None:
        raise Rejection(
            "leg-number-taken", "/data/leg_number", "this patrol already has a leg with this number"
        )
    ctx.session.add(
        PatrolLeg(
            id=record_id,
            patrol_id=data["patrol_id"],
            area_id=ctx.area_id,
            leg_number=data["leg_number"],
            patrol_type=data["patrol_type"],
            transport=data.get("transport"),
            leader_id=leader,
            started_at=ctx.corrected(data["started_at"]),
            ended_at=ctx.corrected(data["ended_at"]) if data.get("ended_at") else None,
        )
    )
    return Verdict(str(record_id), "patrol_leg", STORED, version=1)


def check_attributes(
    category: ReportCategory | ReportCategoryVersion, values: dict, pointer: str
) -> None:
    problems = attribute_rules.check(category.attribute_schema or {"type": "object"}, values)
    if problems:
        where, message = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise Rejection("invalid-attributes", pointer + where.rstrip("/"), f"{message}{more}")


def store_report(
    ctx: PushContext, record_id: uuid.UUID, data: dict, digest: bytes, raw: Any
) -> Verdict:
    if verdict := created(ctx, "report", record_id, digest, raw):
        return verdict
    ctx.check_time(data["observed_at"], "/data/observed_at")
    category = ctx.remembered(
        ("category", data["category"]),
        lambda: category_in_area(ctx.session, ctx.area_id, data["category"]),
    )
    if category is None:
        raise Rejection("unknown-category", "/data/category", f"no category {data['category']!r}")
    # The form the ranger filled in: the version the device had (still valid after a change),
    # or, when it does not say, the current one.
    version = data.get("category_version", category.version)
    form = ctx.remembered(
        ("form", category.id, version), lambda: version_of(ctx.session, category, version)
    )
    if form is None:
        raise Rejection(
            "unknown-category-version",
            "/data/category_version",
            f"{category.key} has no version {version} (the latest is {category.version})",
        )
    kind = data["geometry"].geom_type
    if form.geometry_kind == "point" and kind != "Point":
        raise Rejection("wrong-geometry-type", "/data/geometry/type", f"{form.label} is a point")
    if form.geometry_kind == "polygon" and kind != "Polygon":
        raise Rejection("wrong-geometry-type", "/data/geometry/type", f"{form.label} is a polygon")
    check_attributes(form, data["attributes"], "/data/attributes")
    if data.get("patrol_id"):
        _patrol_in_area(ctx, data["patrol_id"], "/data/patrol_id")
    far = far_outside_area(ctx, data["geometry"])
    report = Report(
        id=record_id,
        area_id=ctx.area_id,
        category_id=category.id,
        category_version=version,
        patrol_id=data.get("patrol_id"),
        device_id=ctx.device.id,
        reported_by=ctx.actor.user_id,
        attributes=data["attributes"],
        geom=from_shape(data["geometry"], srid=4326),
        observed_at_device=data["observed_at"],
        observed_at=ctx.corrected(data["observed_at"]),
        clock_skew_s=ctx.skew.total_seconds(),
        clock_suspect=ctx.clock_suspect,
        location_suspect=far,
        priority=data["priority"],
        notes=data.get("notes"),
    )
    ctx.session.add(report)
    if not ctx.bare:  # a refusal by the database belongs to this record's savepoint
        ctx.session.flush()
    version_snapshot(ctx, "report", record_id, 1, report_snapshot(report))
    ctx.remember(("report-area", record_id), ctx.area_id)
    if far:
        return Verdict(
            str(record_id),
            "report",
            STORED,
            code="far-outside-area",
            pointer="/data/geometry",
            detail=f"stored, and flagged: more than {FAR_OUTSIDE_M // 1000} km outside the park",
            version=1,
        )
    return Verdict(str(record_id), "report", STORED, version=1)


# Further than this from the park's boundary, a report's place is flagged for a manager.
FAR_OUTSIDE_M = 50_000


def far_outside_area(ctx: PushContext, geometry) -> bool:
    return bool(
        ctx.session.execute(
            text(
                "SELECT NOT ST_DWithin(boundary::geography,"
                " ST_GeomFromText(:wkt, 4326)::geography, :far) FROM areas WHERE id = :area"
            ),
            {"wkt": geometry.wkt, "far": FAR_OUTSIDE_M, "area": ctx.area_id},
        ).scalar_one()
    )


def report_snapshot(report: Report) -> dict:
    return {
        "attributes": report.attributes,
        "status": report.status or "new",
        "priority": report.priority,
        "notes": report.notes,
    }


def store_attachment(
    ctx: PushContext, record_id: uuid.UUID, data: dict, digest: bytes, raw: Any
) -> Verdict:
    if verdict := created(ctx, "attachment", record_id, digest, raw):
        return verdict
    area = ctx.remembered(
        ("report-area", data["report_id"]),
        lambda: ctx.session.scalar(select(Report.area_id).where(Report.id == data["report_id"])),
    )
    if area != ctx.area_id:
        raise Rejection(
            "unknown-report", "/data/report_id", "no such report in this area (send it first)"
        )
    ctx.session.add(
        Attachment(
            id=record_id,
            area_id=ctx.area_id,
            report_id=data["report_id"],
            sha256=data["sha256"],
            size_bytes=data["size_bytes"],
            media_type=data["media_type"],
        )
    )
    return Verdict(str(record_id), "attachment", STORED)


def store_device_status(
    ctx: PushContext, record_id: uuid.UUID, data: dict, digest: bytes, raw: Any
) -> Verdict:
    if verdict := created(ctx, "device_status", record_id, digest, raw):
        return verdict
    ctx.check_time(data["reported_at"], "/data/reported_at")
    ctx.check_time(data.get("oldest_pending_at"), "/data/oldest_pending_at")
    ctx.session.add(
        DeviceStatus(
            id=record_id,
            area_id=ctx.area_id,
            device_id=ctx.device.id,
            reported_at_device=data["reported_at"],
            reported_at=ctx.corrected(data["reported_at"]),
            battery_pct=data.get("battery_pct"),
            app_version=data.get("app_version"),
            free_storage_bytes=data.get("free_storage_bytes"),
            pending=data["pending"],
            oldest_pending_at=ctx.corrected(data["oldest_pending_at"])
            if data.get("oldest_pending_at")
            else None,
        )
    )
    if data.get("app_version"):
        ctx.session.execute(
            update(Device).where(Device.id == ctx.device.id).values(app_version=data["app_version"])
        )
    return Verdict(str(record_id), "device_status", STORED)
