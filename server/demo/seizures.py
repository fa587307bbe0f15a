"""The demo park's seizures: a few complete ones this year, so the seizure page, the trends and
the CITES report have something to show on `make run`."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.core.policy import SYSTEM
from server.demo import geodata
from server.patrols.models import Patrol
from server.seizures import cites, service
from server.species.models import Taxon
from server.species.service import load_starter_list

AGENCY = "Mto Mweusi Park Rangers"
# (days ago, place, detection, transport, origin, transit, destination, items)
SEIZURES = (
    (
        2,
        "Kisima road block",
        "checkpoint",
        "road",
        ["TZ"],
        ["KE"],
        ["VN"],
        [
            ("Manis tricuspis", "SCA", "kg", "12.5", None),
            ("Manis gigantea", "SCA", "kg", "4", None),
        ],
    ),
    (
        9,
        "Simba Dam",
        "patrol",
        "on_foot",
        ["TZ"],
        [],
        ["CN"],
        [("Loxodonta africana", "TUS", "NUM", "2", "23.4 kg")],
    ),
    (
        20,
        "Northern boundary",
        "informant",
        "road",
        ["TZ"],
        ["KE"],
        ["AE"],
        [("Psittacus erithacus", "LIV", "NUM", "14", None)],
    ),
    (
        33,
        "Mto Mweusi river",
        "patrol",
        "inland_water",
        ["TZ"],
        [],
        ["TZ"],
        [("Dalbergia melanoxylon", "LOG", "m3", "3.2", None)],
    ),
)


def seed_seizures(session: Session, area_id: uuid.UUID, now: datetime) -> int:
    load_starter_list(session, SYSTEM)
    cites.set_party(session, SYSTEM, geodata.AREA_SLUG, "TZ", "Wildlife Division (demo)")
    taxa = {t.scientific_name: t.id for t in session.scalars(select(Taxon))}
    patrols = list(
        session.scalars(
            select(Patrol.id).where(Patrol.area_id == area_id).order_by(Patrol.started_at)
        )
    )
    routes = geodata.patrol_routes()  # seizures happen where the demo patrols walked
    for i, (days, place, detection, transport, origin, transit, dest, items) in enumerate(SEIZURES):
        route = routes[i % len(routes)]
        lon, lat = route[(i + 1) * len(route) // 5]
        data = service.parse(
            {
                "seized_at": (now - timedelta(days=days)).isoformat(),
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
                "place_name": place,
                "agency": AGENCY,
                "reference": f"MMNP/{now.year}/{i + 1:03d}",
                "detection_method": detection,
                "transport_mode": transport,
                "reason": "illegal_possession",
                "origin_countries": origin,
                "transit_countries": transit,
                "destination_countries": dest,
                "offender_nationalities": ["TZ"],
                "patrol_id": str(patrols[i]) if i < len(patrols) else None,
                "items": [
                    {
                        "taxon_id": str(taxa[name]),
                        "term": term,
                        "unit": unit,
                        "quantity": quantity,
                        "source": "W",
                    }
                    | ({"count": 2} if note else {})
                    for name, term, unit, quantity, note in items
                ],
            }
        )
        service.check(session, area_id, data)
        service.store(session, uuid.uuid4(), area_id, data, seized_at=data["seized_at"])
    return len(SEIZURES)
