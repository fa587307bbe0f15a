"""Signed receipts of evidence files: once a file's bytes are in and match the SHA-256 the device
declared, the server states (Ed25519) what it received, from which device, captured when and
where, and when it was stored. The receipt is made once and kept, so asking again (after a cut
connection) gets the same bytes."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass

from geoalchemy2.shape import to_shape
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from server.areas.models import Area
from server.cases.keys import Keyring
from server.cases.models import Receipt
from server.core.errors import NotFound
from server.core.policy import Action, Actor, load_in_area
from server.reports.models import Attachment, Report
from sync.protocol.receipts import payload_text


@dataclass(frozen=True)
class ReceiptView:
    attachment_id: uuid.UUID
    key_id: str
    payload: str
    signature: str  # base64

    def as_dict(self) -> dict:
        return {"key_id": self.key_id, "payload": self.payload, "signature": self.signature}


def _view(row: Receipt) -> ReceiptView:
    return ReceiptView(
        row.attachment_id, row.key_id, row.payload, base64.b64encode(row.signature).decode()
    )


def receipt_for(
    session: Session, actor: Actor, keyring: Keyring, attachment_id: uuid.UUID
) -> ReceiptView:
    """The receipt of a stored file (issued now if it is the first time anyone asks)."""
    attachment = load_in_area(
        session, actor, Action.EVIDENCE_VIEW, Attachment, attachment_id, "attachment"
    )
    return _view(issue(session, keyring, attachment))


def issue(session: Session, keyring: Keyring, attachment: Attachment) -> Receipt:
    """The attachment's receipt, signed with the current key if it has none yet."""
    found = _stored(session, attachment)
    if found is not None:
        return found
    if attachment.state != "stored" or attachment.stored_at is None:
        raise NotFound(
            f"no receipt: the file has not arrived yet (it is {attachment.state})",
            extra={"state": attachment.state},
        )
    report = session.get_one(Report, attachment.report_id)
    area_slug = session.execute(select(Area.slug).where(Area.id == attachment.area_id)).scalar_one()
    point = to_shape(report.geom).representative_point()
    key = keyring.current()
    payload = payload_text(
        attachment_id=str(attachment.id),
        sha256=attachment.sha256,
        size_bytes=attachment.size_bytes,
        media_type=attachment.media_type,
        device_id=str(report.device_id) if report.device_id else None,
        report_id=str(report.id),
        captured_at=report.observed_at_device.isoformat(),
        position=[round(point.x, 7), round(point.y, 7)],
        received_at=attachment.stored_at.isoformat(),
        area=area_slug,
        key=key.key_id,
    )
    session.execute(
        insert(Receipt)
        .values(
            area_id=attachment.area_id,
            attachment_id=attachment.id,
            key_id=key.key_id,
            payload=payload,
            signature=key.sign(payload.encode()),
        )
        .on_conflict_do_nothing()
    )
    stored = _stored(session, attachment)
    assert stored is not None  # inserted now, or by a concurrent request
    return stored


def _stored(session: Session, attachment: Attachment) -> Receipt | None:
    return session.scalar(
        select(Receipt).where(
            Receipt.area_id == attachment.area_id, Receipt.attachment_id == attachment.id
        )
    )
