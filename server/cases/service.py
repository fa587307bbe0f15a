"""Cases and prosecutions: what a case groups (seizures, reports, and so their evidence items),
its charges, court, hearings, status and outcome, every change audited; and its suspects, whose
personal data is sealed (Fernet) with a key from configuration and opened only for investigators
and the park's admins. Managers see cases with counts and outcomes, never a name."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from server.areas.service import area_id_of
from server.cases.custody import next_number
from server.cases.models import Case, CaseLink, EvidenceItem, LabResult, Suspect
from server.core import audit
from server.core.db import utcnow
from server.core.errors import Conflict, Invalid
from server.core.policy import Action, Actor, authorize, load_in_area
from server.reports.models import Report
from server.seizures.models import Seizure

SUSPECT_FIELDS = ("name", "id_number", "nationality", "date_of_birth", "notes")
CHANGEABLE = (
    "title",
    "status",
    "court",
    "court_reference",
    "charges",
    "hearings",
    "sentence",
    "outcome",
)


class Sealer:
    """Seals and opens suspects' data. The first key seals; every key opens (rotation)."""

    def __init__(self, keys: tuple[str, ...]) -> None:
        if not keys:
            raise RuntimeError("no key for suspects' data: set SUSPECT_DATA_KEYS")
        self._fernet = MultiFernet([Fernet(k) for k in keys])

    def seal(self, data: dict) -> bytes:
        return self._fernet.encrypt(json.dumps(data, sort_keys=True).encode())

    def open(self, sealed: bytes) -> dict:
        try:
            return json.loads(self._fernet.decrypt(sealed))
        except InvalidToken:
            raise Conflict(
                "this suspect's data was sealed with a key no longer configured"
            ) from None


@dataclass
class CaseView:
    case: Case
    seizure_ids: list[uuid.UUID]
    report_ids: list[uuid.UUID]
    suspects: int
    items: int
    lab_results: int


def open_case(
    session: Session,
    actor: Actor,
    area: str | uuid.UUID,
    title: str,
    seizure_ids: list[uuid.UUID] | None = None,
    report_ids: list[uuid.UUID] | None = None,
) -> Case:
    area_id = area_id_of(session, actor, area)
    authorize(actor, Action.CASE_MANAGE, area_id, "area")
    case = Case(
        id=uuid.uuid4(),
        area_id=area_id,
        number=next_number(session, area_id, Case, "C"),
        title=title,
        status="open",
        charges=[],
        hearings=[],
        created_by=actor.user_id,
    )
    session.add(case)
    session.flush()
    audit.record(session, actor, "case.open", "case", case.id, area_id=area_id, title=title)
    _link(session, actor, case, seizure_ids or [], report_ids or [])
    return case


def _link(
    session: Session,
    actor: Actor,
    case: Case,
    seizure_ids: list[uuid.UUID],
    report_ids: list[uuid.UUID],
) -> None:
    targets: list[tuple[str, type[Seizure] | type[Report], list[uuid.UUID]]] = [
        ("seizure", Seizure, seizure_ids),
        ("report", Report, report_ids),
    ]
    for kind, model, ids in targets:
        for object_id in ids:
            row_area = session.scalar(select(model.area_id).where(model.id == object_id))
            if row_area != case.area_id:
                raise Invalid(f"no such {kind} in this park: {object_id}")
            if session.get(CaseLink, (case.area_id, case.id, kind, object_id)) is None:
                session.add(
                    CaseLink(area_id=case.area_id, case_id=case.id, kind=kind, object_id=object_id)
                )
                audit.record(
                    session,
                    actor,
                    "case.link",
                    "case",
                    case.id,
                    area_id=case.area_id,
                    kind=kind,
                    linked=str(object_id),
                )
    session.flush()


def list_cases(session: Session, actor: Actor, area: str | uuid.UUID) -> list[CaseView]:
    area_id = area_id_of(session, actor, area)
    authorize(actor, Action.CASE_VIEW, area_id, "area")
    cases = session.scalars(
        select(Case).where(Case.area_id == area_id).order_by(Case.opened_at, Case.number)
    ).all()
    return [describe(session, c) for c in cases]


def get_case(session: Session, actor: Actor, case_id: uuid.UUID) -> CaseView:
    return describe(session, load_in_area(session, actor, Action.CASE_VIEW, Case, case_id, "case"))


def describe(session: Session, case: Case) -> CaseView:
    links = session.execute(
        select(CaseLink.kind, CaseLink.object_id).where(
            CaseLink.area_id == case.area_id, CaseLink.case_id == case.id
        )
    ).all()
    items = case_items(session, case)
    suspects = session.scalar(
        select(func.count()).where(Suspect.area_id == case.area_id, Suspect.case_id == case.id)
    )
    results = session.scalar(
        select(func.count()).where(
            LabResult.area_id == case.area_id, LabResult.sample_id.in_([i.id for i in items])
        )
    )
    return CaseView(
        case,
        [o for k, o in links if k == "seizure"],
        [o for k, o in links if k == "report"],
        suspects or 0,
        len(items),
        results or 0,
    )


def case_items(session: Session, case: Case) -> list[EvidenceItem]:
    """The evidence items of the case's seizures and reports (their samples included)."""
    linked = select(CaseLink.kind, CaseLink.object_id).where(
        CaseLink.area_id == case.area_id, CaseLink.case_id == case.id
    )
    seizures = [o for k, o in session.execute(linked) if k == "seizure"]
    reports = [o for k, o in session.execute(linked) if k == "report"]
    return list(
        session.scalars(
            select(EvidenceItem)
            .where(
                EvidenceItem.area_id == case.area_id,
                or_(
                    and_(
                        EvidenceItem.seizure_id.isnot(None), EvidenceItem.seizure_id.in_(seizures)
                    ),
                    and_(EvidenceItem.report_id.isnot(None), EvidenceItem.report_id.in_(reports)),
                ),
            )
            .order_by(EvidenceItem.number)
        )
    )


def update_case(
    session: Session, actor: Actor, case_id: uuid.UUID, changes: dict[str, Any]
) -> CaseView:
    """Change what is given (charges, court, hearings, status, outcome…); each change is an
    audit entry with what it became. A closed case needs an outcome and changes no more."""
    case = load_in_area(session, actor, Action.CASE_MANAGE, Case, case_id, "case", lock=True)
    if case.status == "closed":
        raise Conflict("the case is closed")
    _link(session, actor, case, changes.pop("seizure_ids", []), changes.pop("report_ids", []))
    unknown = set(changes) - set(CHANGEABLE)
    if unknown:
        raise Invalid(f"not a field of a case: {', '.join(sorted(unknown))}")
    closing = changes.get("status", case.status) == "closed"
    if closing and not changes.get("outcome", case.outcome):
        raise Invalid("a case is closed with its outcome", errors={"outcome": ["missing"]})
    for name, value in changes.items():
        setattr(case, name, value)
    if closing:
        case.closed_at = utcnow()
    if changes:
        audit.record(
            session,
            actor,
            "case.close" if case.status == "closed" else "case.change",
            "case",
            case.id,
            area_id=case.area_id,
            **{name: _plain(value) for name, value in changes.items()},
        )
    session.flush()
    return describe(session, case)


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


# --- suspects ------------------------------------------------------------------------------------


def add_suspect(
    session: Session, actor: Actor, sealer: Sealer, case_id: uuid.UUID, data: dict[str, Any]
) -> dict:
    case = load_in_area(session, actor, Action.CASE_MANAGE, Case, case_id, "case")
    authorize(actor, Action.SUSPECT_VIEW, case.area_id, "case")
    personal = {k: data.get(k) for k in SUSPECT_FIELDS}
    suspect = Suspect(
        id=uuid.uuid4(), area_id=case.area_id, case_id=case.id, sealed=sealer.seal(personal)
    )
    session.add(suspect)
    session.flush()
    # The audit log says a suspect was added, never who: it is read more widely than this.
    audit.record(
        session, actor, "case.suspect", "case", case.id, area_id=case.area_id, suspect=suspect.id
    )
    return {"id": suspect.id, **personal}


def suspects(session: Session, actor: Actor, sealer: Sealer, case_id: uuid.UUID) -> list[dict]:
    case = load_in_area(session, actor, Action.SUSPECT_VIEW, Case, case_id, "case")
    return suspects_of(session, sealer, case)


def suspects_of(session: Session, sealer: Sealer, case: Case) -> list[dict]:
    rows = session.scalars(
        select(Suspect)
        .where(Suspect.area_id == case.area_id, Suspect.case_id == case.id)
        .order_by(Suspect.created_at, Suspect.id)
    ).all()
    return [{"id": row.id, **sealer.open(row.sealed)} for row in rows]
