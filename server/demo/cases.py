"""The demo park's prosecution: the Simba Dam ivory seizure as a case, with a scene photo (its file
stored and its receipt signed), the tusks handed from the ranger who seized them to the
investigator (both signing), a DNA sample sent to a lab and its result, a suspect, charges, a
hearing, and the case closed with its outcome; so `make run` has a package to build and verify.

It needs the evidence store and the signing keys, so it runs beside the seed (at `serve` and
`demo`), once: a park that has a case is left alone."""

from __future__ import annotations

import hashlib
import io
import uuid
from datetime import datetime, timedelta

from PIL import Image, ImageDraw
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.accounts.models import User
from server.accounts.service import actor_for
from server.areas.models import Area
from server.cases import custody, lab, service
from server.cases.keys import Keyring
from server.cases.models import Case
from server.cases.receipts import issue
from server.cases.service import Sealer
from server.core.db import utcnow
from server.demo import geodata
from server.evidence import images
from server.evidence.storage import FileStore
from server.reports.models import Attachment, Report
from server.seizures.models import Seizure

SEIZURE_PLACE = "Simba Dam"
SUSPECT = {
    "name": "Hassani Mfano (demo)",
    "id_number": "TZ-NIDA-19850412-00000-00000-00",
    "nationality": "TZ",
    "date_of_birth": "1985-04-12",
    "notes": "Fictional person of the demo park.",
}


def ensure_demo_case(session: Session, store: FileStore, keyring: Keyring, sealer: Sealer) -> bool:
    """Add the demo case if the demo park is there without one. Answers whether it was added."""
    area = session.scalar(select(Area).where(Area.slug == geodata.AREA_SLUG))
    if area is None or session.scalar(select(Case.id).where(Case.area_id == area.id).limit(1)):
        return False
    seizure = session.scalar(
        select(Seizure).where(Seizure.area_id == area.id, Seizure.place_name == SEIZURE_PLACE)
    )
    people = {u.username: u for u in session.scalars(select(User))}
    if seizure is None or not {"amani", "inspekta"} <= people.keys():
        return False
    ranger = actor_for(session, people["amani"])
    investigator = actor_for(session, people["inspekta"])
    seized = seizure.seized_at
    report = session.scalar(  # the photo goes with the report made nearest the seizure
        select(Report)
        .where(Report.area_id == area.id)
        .order_by(func.abs(func.extract("epoch", Report.observed_at - seized)))
        .limit(1)
    )
    if report is None:
        return False
    photo = _scene_photo(seizure.reference or SEIZURE_PLACE)
    attachment = _stored_photo(session, store, area.id, report, photo, seized)
    issue(session, keyring, attachment)

    custody.create_item(
        session,
        ranger,
        area.id,
        kind="digital",
        description="Scene photo: two tusks under a tarpaulin by the dam",
        seizure_id=seizure.id,
        attachment_id=attachment.id,
        place=SEIZURE_PLACE,
        at=seized,
    )
    tusks = custody.create_item(
        session,
        ranger,
        area.id,
        kind="physical",
        description="Two elephant tusks, 23.4 kg together, in evidence bag",
        seizure_id=seizure.id,
        seal_number="MM-000412",
        place=SEIZURE_PLACE,
        at=seized + timedelta(minutes=20),
    )
    handover = custody.propose_handover(
        session,
        investigator,
        tusks.id,
        {
            "at": seized + timedelta(hours=5),
            "place": "Park HQ exhibit store",
            "purpose": "to the exhibit store for investigation",
            "condition": "bag intact",
            "seal_number": "MM-000412",
        },
    )
    custody.acknowledge_handover(session, ranger, handover.id)
    sample = custody.take_sample(
        session,
        investigator,
        tusks.id,
        analysis="dna",
        description="Bone powder drilled from the larger tusk's base",
        seal_number="MM-S-0091",
        place="Park HQ exhibit store",
        at=seized + timedelta(hours=20),
    )
    custody.send_outside(
        session,
        investigator,
        sample.id,
        "Wildlife Forensic Laboratory (demo)",
        "WFL-2026-118",
        {"at": seized + timedelta(days=1), "purpose": "DNA: species and origin"},
    )
    lab.record_result(
        session,
        investigator,
        sample.id,
        lab="Wildlife Forensic Laboratory (demo)",
        lab_reference="WFL-2026-118",
        summary="Elephant DNA; microsatellite profile assigns the tusks to the park's population",
        species_confirmed="Loxodonta africana",
        origin="Mto Mweusi population (assignment probability 0.97)",
        reported_at=seized + timedelta(days=6),
    )
    case = service.open_case(
        session,
        investigator,
        area.id,
        "Simba Dam ivory",
        seizure_ids=[seizure.id],
        report_ids=[report.id],
    )
    service.add_suspect(session, investigator, sealer, case.id, SUSPECT)
    service.update_case(
        session,
        investigator,
        case.id,
        {
            "status": "in_court",
            "court": "Resident Magistrate's Court (demo)",
            "court_reference": "Economic Case No. 12/2026",
            "charges": [
                {
                    "statute": "Wildlife Conservation Act s.86",
                    "description": "Unlawful possession of government trophies (two tusks)",
                }
            ],
            "hearings": [
                {
                    "at": (seized + timedelta(days=7)).isoformat(),
                    "purpose": "plea",
                    "result": "pleaded not guilty",
                }
            ],
        },
    )
    service.update_case(
        session,
        investigator,
        case.id,
        {"status": "closed", "outcome": "convicted", "sentence": "20 years' imprisonment"},
    )
    return True


def _scene_photo(caption: str) -> bytes:
    image = Image.new("RGB", (640, 420), (92, 110, 70))
    draw = ImageDraw.Draw(image)
    draw.rectangle((120, 170, 520, 300), fill=(60, 80, 120))  # the tarpaulin
    draw.polygon([(180, 250), (420, 200), (430, 215), (190, 262)], fill=(235, 225, 200))
    draw.polygon([(200, 280), (450, 240), (455, 252), (205, 292)], fill=(230, 220, 195))
    draw.text((20, 20), f"Simba Dam - {caption} (demo scene photo)", fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def _stored_photo(
    session: Session,
    store: FileStore,
    area_id: uuid.UUID,
    report: Report,
    photo: bytes,
    at: datetime,
) -> Attachment:
    """The photo as if the ranger's handheld had uploaded it: stored by its SHA-256."""
    sha = hashlib.sha256(photo).hexdigest()
    path = store.blob(sha)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(photo)
    # and its thumbnail, as an upload gets one (the demo's own photo: small, no bomb to fear)
    images.make_thumbnail(path, store.thumbnail(sha), "image/jpeg", max_pixels=10_000_000)
    attachment = Attachment(
        id=uuid.uuid4(),
        area_id=area_id,
        report_id=report.id,
        sha256=sha,
        size_bytes=len(photo),
        media_type="image/jpeg",
        state="stored",
        stored_at=min(at + timedelta(hours=3), utcnow()),
    )
    session.add(attachment)
    session.flush()
    return attachment
