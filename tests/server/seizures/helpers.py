"""Builders for seizure tests: a park with the starter taxa, seizures as a device sends them."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.core.policy import SYSTEM
from server.species.models import Taxon
from server.species.service import load_starter_list
from tests.server.sync import helpers as h

T0 = h.T0


def taxa(session: Session) -> dict[str, str]:
    """Load the starter list (once) and answer scientific name → id."""
    if session.scalar(select(Taxon.id).limit(1)) is None:
        load_starter_list(session, SYSTEM)
        session.commit()
    return {t.scientific_name: str(t.id) for t in session.scalars(select(Taxon))}


def scales(taxon_id: str, kg: float = 12.5, **more) -> dict:
    return {"taxon_id": taxon_id, "term": "SCA", "unit": "kg", "quantity": kg, "source": "W"} | more


def tusks(taxon_id: str, count: int = 2, **more) -> dict:
    return {"taxon_id": taxon_id, "term": "TUS", "unit": "NUM", "quantity": count} | more


def seizure_data(items: list[dict], **data) -> dict:
    return {
        "seized_at": T0.isoformat(),
        "geometry": {"type": "Point", "coordinates": [37.12, -3.41]},
        "place_name": "Mto wa Mbu road block",
        "agency": "Mweusi Park Rangers",
        "detection_method": "patrol",
        "transport_mode": "on_foot",
        "reason": "illegal_possession",
        "origin_countries": ["TZ"],
        "transit_countries": ["KE"],
        "destination_countries": ["VN"],
        "items": items,
        "reference": "MW/2026/001",
    } | data


def seizure(items: list[dict], seizure_id: str | None = None, **data) -> dict:
    return {
        "kind": "seizure",
        "id": seizure_id or str(uuid.uuid4()),
        "data": seizure_data(items, **data),
    }


def edit(target_id: str, base_version: int, changes: dict) -> dict:
    return h.edit(target_id, base_version, changes, target="seizure")
