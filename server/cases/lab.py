"""Forensic results: what a lab found in a sample (species confirmed, population or origin
assigned) and what it matched (another item, so its seizure, or a seizure directly). A match is
read from both sides, so two seizures linked by DNA show up on each other's pages."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, aliased

from server.cases.models import EvidenceItem, LabResult
from server.core import audit
from server.core.errors import Invalid
from server.core.policy import Action, Actor, load_in_area
from server.seizures.models import Seizure


@dataclass(frozen=True)
class ForensicLink:
    result: LabResult
    sample_number: str
    seizure_id: uuid.UUID | None  # the sample's seizure
    other_seizure_id: uuid.UUID | None  # the seizure on the other side of the match
    other_item_number: str | None


def record_result(
    session: Session,
    actor: Actor,
    sample_id: uuid.UUID,
    *,
    lab: str,
    lab_reference: str,
    summary: str,
    reported_at: datetime,
    species_confirmed: str | None = None,
    origin: str | None = None,
    matched_item_id: uuid.UUID | None = None,
    matched_seizure_id: uuid.UUID | None = None,
) -> LabResult:
    sample = load_in_area(session, actor, Action.CUSTODY_RECORD, EvidenceItem, sample_id, "item")
    if sample.kind != "sample":
        raise Invalid(
            "lab results are recorded on a sample", errors={"sample_id": ["not a sample"]}
        )
    if matched_item_id is not None:
        matched = session.get(EvidenceItem, (sample.area_id, matched_item_id))
        if matched is None:
            raise Invalid("no such item in this park", errors={"matched_item_id": ["unknown"]})
        matched_seizure_id = matched_seizure_id or matched.seizure_id
    if matched_seizure_id is not None:
        seizure = session.get(Seizure, matched_seizure_id)
        if seizure is None or seizure.area_id != sample.area_id:
            raise Invalid(
                "no such seizure in this park", errors={"matched_seizure_id": ["unknown"]}
            )
    result = LabResult(
        id=uuid.uuid4(),
        area_id=sample.area_id,
        sample_id=sample.id,
        lab=lab,
        lab_reference=lab_reference,
        species_confirmed=species_confirmed,
        origin=origin,
        summary=summary,
        matched_item_id=matched_item_id,
        matched_seizure_id=matched_seizure_id,
        reported_at=reported_at,
        recorded_by=actor.user_id,
    )
    session.add(result)
    session.flush()
    audit.record(
        session,
        actor,
        "lab.result",
        "evidence_item",
        sample.id,
        area_id=sample.area_id,
        lab=lab,
        lab_reference=lab_reference,
        result=str(result.id),
        matched_seizure=str(matched_seizure_id) if matched_seizure_id else None,
    )
    return result


def results_for_items(session: Session, area_id: uuid.UUID, item_ids: list[uuid.UUID]) -> list:
    return list(
        session.scalars(
            select(LabResult)
            .where(LabResult.area_id == area_id, LabResult.sample_id.in_(item_ids))
            .order_by(LabResult.reported_at)
        )
    )


def forensic_links(session: Session, actor: Actor, seizure_id: uuid.UUID) -> list[ForensicLink]:
    """Lab results that tie this seizure to another: its samples' matches, and other samples
    that matched it."""
    seizure = load_in_area(session, actor, Action.SEIZURE_VIEW, Seizure, seizure_id, "seizure")
    sample = aliased(EvidenceItem)
    matched = aliased(EvidenceItem)
    rows = session.execute(
        select(LabResult, sample.number, sample.seizure_id, matched.number)
        .join(sample, (sample.area_id == LabResult.area_id) & (sample.id == LabResult.sample_id))
        .outerjoin(
            matched,
            (matched.area_id == LabResult.area_id) & (matched.id == LabResult.matched_item_id),
        )
        .where(
            LabResult.area_id == seizure.area_id,
            or_(sample.seizure_id == seizure.id, LabResult.matched_seizure_id == seizure.id),
        )
        .order_by(LabResult.reported_at)
    ).all()
    links = []
    for result, sample_number, sample_seizure, matched_number in rows:
        mine = sample_seizure == seizure.id
        links.append(
            ForensicLink(
                result,
                sample_number,
                sample_seizure,
                result.matched_seizure_id if mine else sample_seizure,
                matched_number if mine else sample_number,
            )
        )
    return links
