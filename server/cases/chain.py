"""The hashes that chain custody entries and audit entries, computed the same way by the server
when it appends and by the offline verifier when it checks a package (so this module touches
no database).

A custody entry's hash is SHA-256(previous entry's hash ‖ the entry's canonical JSON body); the
first entry's previous hash is empty. An audit entry's hash is what the database's
rs_audit_digest() computes (migrations/versions/0001_foundation.py): SHA-256(previous hash ‖ the
entry's fields joined by U+001F), with the time in microseconds since the epoch and the details
as PostgreSQL spells the jsonb (the package carries that text as it was hashed)."""

from __future__ import annotations

import hashlib
from typing import Any

from sync.protocol.receipts import canonical

GENESIS = b""
UNIT_SEPARATOR = "\x1f"


def custody_body(fields: dict[str, Any]) -> str:
    return canonical(fields)


def custody_hash(prev_hash: bytes, body: str) -> bytes:
    return hashlib.sha256(prev_hash + body.encode()).digest()


def audit_hash(entry: dict[str, Any]) -> bytes:
    """The hash of one audit entry as exported in a package (see `audit_export`)."""
    parts = [
        str(entry["id"]),
        str(entry["at_us"]),
        entry["actor_kind"],
        entry["actor_id"] or "",
        entry["area_id"] or "",
        entry["action"],
        entry["object_type"],
        entry["object_id"] or "",
        entry["details_text"],
    ]
    prev = bytes.fromhex(entry["prev_hash"])
    return hashlib.sha256(prev + UNIT_SEPARATOR.join(parts).encode()).digest()
