"""Helpers for evidence tests: declare a photo through a push, then drive its tus upload."""

from __future__ import annotations

import base64
import hashlib

from sqlalchemy import text

from tests.server.sync import helpers as h

TUS = {"Tus-Resumable": "1.0.0"}


def declare_attachment(client, park, data: bytes, media_type: str = "image/jpeg") -> str:
    report = h.report()
    attachment = {
        "kind": "attachment",
        "id": h.rid(),
        "data": {
            "report_id": report["id"],
            "sha256": hashlib.sha256(data).hexdigest(),
            "size_bytes": len(data),
            "media_type": media_type,
        },
    }
    assert h.verdicts(h.push(client, park, [report, attachment])) == ["stored", "stored"]
    return attachment["id"]


def create_upload(client, park, attachment_id: str, length: int):
    metadata = "attachment_id " + base64.b64encode(attachment_id.encode()).decode()
    return client.post(
        "/api/v1/uploads",
        headers=park.headers | TUS | {"Upload-Length": str(length), "Upload-Metadata": metadata},
    )


def patch_upload(client, park, location: str, offset: int, chunk: bytes, **headers):
    return client.patch(
        location,
        data=chunk,
        headers=park.headers
        | TUS
        | {"Content-Type": "application/offset+octet-stream", "Upload-Offset": str(offset)}
        | headers,
    )


def attachment_state(db, attachment_id):
    return db.execute(
        text("SELECT state FROM attachments WHERE id = :a"), {"a": attachment_id}
    ).scalar_one()
