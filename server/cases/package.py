"""The evidence package of a case: one ZIP that anyone can check offline with nothing else.

    manifest.json   the case, its items, every file's SHA-256, the signed receipts, each item's
                    custody log with its chain, the audit entries of the case and its items,
                    and the server's public keys
    manifest.sig    the server's Ed25519 signature over manifest.json's bytes
    report.pdf      the report for the court (listed in the manifest with its hash)
    files/…         the evidence files, named by their SHA-256

`rangersync evidence verify PACKAGE.zip` (server/cases/verify.py) checks all of it."""

from __future__ import annotations

import base64
import hashlib
import json
import mimetypes
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from server.areas.models import Area
from server.cases import custody, lab
from server.cases.keys import Keyring
from server.cases.models import Case, Receipt
from server.cases.pdf import court_report
from server.cases.service import Sealer, case_items, describe, suspects_of
from server.core.db import utcnow
from server.core.policy import Action, Actor, authorize, load_in_area
from server.evidence.storage import FileStore
from server.reports.models import Attachment
from sync.protocol.receipts import canonical

FORMAT = "rangersync-evidence-package/1"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
REPORT = "report.pdf"


@dataclass(frozen=True)
class Built:
    case_number: str
    items: int
    files: int
    custody_entries: int
    audit_entries: int
    flags: int


AUDIT_EXPORT = """
SELECT id, (extract(epoch FROM at) * 1000000)::bigint AS at_us, at, actor_kind,
       actor_id::text AS actor_id, area_id::text AS area_id, action, object_type, object_id,
       details::text AS details_text, encode(prev_hash, 'hex') AS prev_hash,
       encode(hash, 'hex') AS hash
FROM audit_log
WHERE area_id = :area AND (
    (object_type = 'case' AND object_id = :case)
    OR (object_type = 'evidence_item' AND object_id = ANY(:items)))
ORDER BY id
"""


def build_package(
    session: Session,
    actor: Actor,
    case_id: uuid.UUID,
    out: IO[bytes],
    *,
    store: FileStore,
    keyring: Keyring,
    sealer: Sealer,
) -> Built:
    """Write the case's package to `out` (a binary file)."""
    case = load_in_area(session, actor, Action.CASE_MANAGE, Case, case_id, "case")
    authorize(actor, Action.SUSPECT_VIEW, case.area_id, "case")  # the court needs the names
    area = session.get_one(Area, case.area_id)
    view = describe(session, case)
    items = case_items(session, case)
    numbers = {i.id: i.number for i in items}
    files: dict[str, Path] = {}
    item_docs = []
    for item in items:
        item_view = custody.describe(session, item)
        doc: dict[str, Any] = {
            "id": str(item.id),
            "number": item.number,
            "kind": item.kind,
            "description": item.description,
            "seizure_id": _str(item.seizure_id),
            "report_id": _str(item.report_id),
            "taken_from": numbers.get(item.parent_id) if item.parent_id else None,
            "analysis": item.analysis,
            "file": None,
            "receipt": None,
            "custody": [
                {k: e[k] for k in ("seq", "prev_hash", "hash", "audit_id")}
                | {"body": e["body_text"]}
                for e in item_view.entries
            ],
            "flags": [f.__dict__ for f in item_view.flags]
            + [f.__dict__ for f in [custody.stored_file_flag(session, store, item)] if f],
            "lab_results": [
                _result(r, numbers) for r in lab.results_for_items(session, item.area_id, [item.id])
            ],
        }
        if item.attachment_id is not None:
            attachment = session.get_one(Attachment, item.attachment_id)
            name = f"files/{attachment.sha256}{_extension(attachment.media_type)}"
            files[name] = store.blob(attachment.sha256)
            doc["file"] = {
                "path": name,
                "sha256": attachment.sha256,
                "size_bytes": attachment.size_bytes,
                "media_type": attachment.media_type,
            }
            receipt = session.scalar(
                select(Receipt).where(
                    Receipt.area_id == item.area_id, Receipt.attachment_id == attachment.id
                )
            )
            if receipt is not None:
                doc["receipt"] = {
                    "key_id": receipt.key_id,
                    "payload": receipt.payload,
                    "signature": base64.b64encode(receipt.signature).decode(),
                }
        item_docs.append(doc)
    audit_entries = [
        {
            "id": row.id,
            "at_us": row.at_us,
            "at": row.at.isoformat(),
            "actor_kind": row.actor_kind,
            "actor_id": row.actor_id,
            "area_id": row.area_id,
            "action": row.action,
            "object_type": row.object_type,
            "object_id": row.object_id,
            "details_text": row.details_text,
            "prev_hash": row.prev_hash,
            "hash": row.hash,
        }
        for row in session.execute(
            text(AUDIT_EXPORT),
            {"area": case.area_id, "case": str(case.id), "items": [str(i.id) for i in items]},
        )
    ]
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "generated_at": utcnow().isoformat(),
        "area": {"slug": area.slug, "name": area.name, "timezone": area.timezone},
        "case": {
            "id": str(case.id),
            "number": case.number,
            "title": case.title,
            "status": case.status,
            "court": case.court,
            "court_reference": case.court_reference,
            "charges": case.charges,
            "hearings": case.hearings,
            "outcome": case.outcome,
            "sentence": case.sentence,
            "opened_at": case.opened_at.isoformat(),
            "closed_at": case.closed_at.isoformat() if case.closed_at else None,
            "seizure_ids": [str(s) for s in view.seizure_ids],
            "report_ids": [str(r) for r in view.report_ids],
        },
        "suspects": [
            {k: _str(v) if isinstance(v, uuid.UUID) else v for k, v in s.items()}
            for s in suspects_of(session, sealer, case)
        ],
        "keys": keyring.published(),
        "items": item_docs,
        "audit": audit_entries,
        "files": [],
    }
    pdf = court_report(manifest, files)
    listed = [_listed(REPORT, pdf)]
    listed += [_listed(name, path) for name, path in sorted(files.items())]
    manifest["files"] = listed
    manifest_bytes = json.dumps(manifest, indent=1, sort_keys=True).encode()
    key = keyring.current()
    signature = {
        "key_id": key.key_id,
        "signature": base64.b64encode(key.sign(manifest_bytes)).decode(),
    }
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MANIFEST, manifest_bytes)
        archive.writestr(SIGNATURE, canonical(signature))
        archive.writestr(REPORT, pdf)
        for name, path in sorted(files.items()):
            archive.write(path, name)
    return Built(
        case.number,
        len(item_docs),
        len(listed),
        sum(len(d["custody"]) for d in item_docs),
        len(audit_entries),
        sum(len(d["flags"]) for d in item_docs),
    )


def _listed(name: str, content: bytes | Path) -> dict[str, Any]:
    """A file's line in the manifest; a stored file is read in pieces (videos can be large)."""
    if isinstance(content, bytes):
        digest, size = hashlib.sha256(content), len(content)
    else:
        digest, size = hashlib.sha256(), 0
        with open(content, "rb") as f:
            while chunk := f.read(1024 * 1024):
                digest.update(chunk)
                size += len(chunk)
    return {"path": name, "sha256": digest.hexdigest(), "size_bytes": size}


def _result(result, numbers: dict) -> dict[str, Any]:
    return {
        "lab": result.lab,
        "lab_reference": result.lab_reference,
        "species_confirmed": result.species_confirmed,
        "origin": result.origin,
        "summary": result.summary,
        "matched_item": numbers.get(result.matched_item_id) or _str(result.matched_item_id),
        "matched_seizure_id": _str(result.matched_seizure_id),
        "reported_at": result.reported_at.isoformat(),
    }


def _extension(media_type: str) -> str:
    return {"image/jpeg": ".jpg"}.get(media_type) or mimetypes.guess_extension(media_type) or ""


def _str(value: object) -> str | None:
    return None if value is None else str(value)
