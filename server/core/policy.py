"""Who may do what: the role × action policy table and the one function that applies it.

Every service entry point calls `authorize(actor, action, area_id)`. An actor with no role in the
area is told the object does not exist (404), so a ranger of park A cannot even learn that park B's
report ids exist; an actor with a role that does not allow the action gets 403.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.core.errors import Forbidden, NotFound

ROLES = ("admin", "manager", "ranger", "partner", "investigator")


class Action(StrEnum):
    AREA_VIEW = "area.view"
    AREA_EDIT = "area.edit"
    MEMBER_VIEW = "member.view"
    MEMBER_MANAGE = "member.manage"
    TEAM_MANAGE = "team.manage"
    DEVICE_VIEW = "device.view"
    DEVICE_ENROL = "device.enrol"
    DEVICE_REVOKE = "device.revoke"
    MAP_VIEW = "map.view"
    MAP_EDIT = "map.edit"
    PATROL_VIEW = "patrol.view"
    PATROL_RECORD = "patrol.record"
    REPORT_VIEW = "report.view"
    REPORT_CREATE = "report.create"
    REPORT_TRIAGE = "report.triage"
    EVIDENCE_VIEW = "evidence.view"
    ALERT_VIEW = "alert.view"
    ALERT_ISSUE = "alert.issue"
    SOS_RAISE = "sos.raise"
    SYNC = "sync"
    SYNC_REVIEW = "sync.review"  # quarantined records and conflicts
    ANALYTICS_VIEW = "analytics.view"
    SEIZURE_VIEW = "seizure.view"
    SEIZURE_RECORD = "seizure.record"
    SEIZURE_MANAGE = "seizure.manage"
    PARTNER_FEATURES = "partner.features"
    PARTNER_MANAGE = "partner.manage"  # partner keys, their request log, geoprivacy rules
    AUDIT_VIEW = "audit.view"
    CUSTODY_VIEW = "custody.view"  # evidence items, their labels, custody logs, lab results
    CUSTODY_RECORD = "custody.record"  # number an item, hand it over, send a sample to a lab
    CASE_VIEW = "case.view"  # cases with counts and outcomes, never a suspect's name
    CASE_MANAGE = "case.manage"  # open, charge, close; build the evidence package
    SUSPECT_VIEW = "suspect.view"  # suspects' personal data


_FIELD = frozenset({"admin", "manager", "ranger"})
FIELD_ROLES = _FIELD  # who may carry a handheld
DEVICE_ROLE = "ranger"  # what a handheld may do, whoever carries it: field work only
_MANAGERS = frozenset({"admin", "manager"})
# Investigators build prosecutions: they read what the field recorded, hold evidence, and alone
# (with the park's admins) see who the suspects are.
_INVESTIGATORS = frozenset({"admin", "investigator"})
_EVERYONE = frozenset(ROLES)

# Partners see the map and the curated partner feed, never patrols, reports or positions:
# those would tell a poacher where rangers are and are not.
POLICY: Mapping[Action, frozenset[str]] = {
    Action.AREA_VIEW: _EVERYONE,  # investigators included
    Action.AREA_EDIT: frozenset({"admin"}),
    Action.MEMBER_VIEW: _MANAGERS,
    Action.MEMBER_MANAGE: frozenset({"admin"}),
    Action.TEAM_MANAGE: _MANAGERS,
    Action.DEVICE_VIEW: _MANAGERS,
    Action.DEVICE_ENROL: _MANAGERS,
    Action.DEVICE_REVOKE: _MANAGERS,
    Action.MAP_VIEW: _EVERYONE,
    Action.MAP_EDIT: _MANAGERS,
    Action.PATROL_VIEW: _FIELD,
    Action.PATROL_RECORD: _FIELD,
    Action.REPORT_VIEW: _FIELD | _INVESTIGATORS,
    Action.REPORT_CREATE: _FIELD,
    Action.REPORT_TRIAGE: _MANAGERS,
    Action.EVIDENCE_VIEW: _FIELD | _INVESTIGATORS,
    Action.ALERT_VIEW: _FIELD,
    Action.ALERT_ISSUE: _MANAGERS,
    Action.SOS_RAISE: _FIELD,
    Action.SYNC: _FIELD,
    Action.SYNC_REVIEW: _MANAGERS,
    Action.ANALYTICS_VIEW: _MANAGERS,
    # Seizures are intelligence: rangers record them from their devices, managers read and file
    # them; partners never see one.
    Action.SEIZURE_VIEW: _MANAGERS | _INVESTIGATORS,
    Action.SEIZURE_RECORD: _FIELD,
    Action.SEIZURE_MANAGE: _MANAGERS,
    Action.PARTNER_FEATURES: frozenset({"admin", "manager", "partner"}),
    Action.PARTNER_MANAGE: frozenset({"admin"}),
    Action.AUDIT_VIEW: frozenset({"admin"}),
    # Evidence and custody: whoever handles exhibits in the field; partners never.
    Action.CUSTODY_VIEW: _FIELD | _INVESTIGATORS,
    Action.CUSTODY_RECORD: _FIELD | _INVESTIGATORS,
    # Managers see that cases exist, their counts and outcomes; only investigators (and admins)
    # run them and see suspects.
    Action.CASE_VIEW: _MANAGERS | _INVESTIGATORS,
    Action.CASE_MANAGE: _INVESTIGATORS,
    Action.SUSPECT_VIEW: _INVESTIGATORS,
}


@dataclass(frozen=True)
class Actor:
    """Who is asking: a signed-in user, an enrolled device (acting for its user), a partner key
    (a `partner` role in the areas it was issued for), or the CLI."""

    kind: Literal["user", "device", "partner_key", "system"]
    id: uuid.UUID | None
    roles: Mapping[uuid.UUID, str] = field(default_factory=dict)
    is_superuser: bool = False
    user_id: uuid.UUID | None = None

    def role_in(self, area_id: uuid.UUID) -> str | None:
        return self.roles.get(area_id)

    def may(self, action: Action, area_id: uuid.UUID) -> bool:
        if self.is_superuser:
            return True
        role = self.role_in(area_id)
        return role is not None and role in POLICY[action]

    def area_ids_for(self, action: Action) -> set[uuid.UUID] | None:
        """The areas where the actor may do `action`; None means every area (superuser)."""
        if self.is_superuser:
            return None
        return {area for area, role in self.roles.items() if role in POLICY[action]}


SYSTEM = Actor(kind="system", id=None, is_superuser=True)


def authorize(actor: Actor, action: Action, area_id: uuid.UUID, what: str = "object") -> None:
    """Raise unless `actor` may do `action` in `area_id`; 404 when the area is not theirs at all."""
    if actor.may(action, area_id):
        return
    if actor.role_in(area_id) is None:
        raise NotFound(f"no such {what}")
    raise Forbidden(f"your role in this area does not allow {action.value}")


Row = TypeVar("Row")


def load_in_area(
    session: Session,
    actor: Actor,
    action: Action,
    model: type[Row],
    row_id: Any,
    what: str,
    *,
    lock: bool | Literal["share", "update"] = False,
    missing: str | None = None,
) -> Row:
    """The row of `model` (a table with `id` and `area_id`) if `actor` may do `action` in its
    area. 404 `no such {what}` (or `missing`) when there is no such row, and — as `authorize`
    says — when the actor has no role in its area, so another park's row looks like no row; 403
    when the role lacks the action. `lock`: FOR UPDATE (True, "update") or FOR SHARE ("share")."""
    query = select(model).where(model.id == row_id)  # type: ignore[attr-defined]
    if lock:
        query = query.with_for_update(read=lock == "share")
    row = session.scalar(query)
    if row is None:
        raise NotFound(missing or f"no such {what}")
    authorize(actor, action, row.area_id, what)  # type: ignore[attr-defined]
    return row
