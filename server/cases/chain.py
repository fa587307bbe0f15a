"""The hashes that chain custody entries and audit entries, computed the same way by the server
when it appends and by the offline verifier when it checks a package (so this module touches
no database).

A custody entry's hash is SHA-256(previous entry's hash ‖ the entry's canonical JSON body); the
first entry's previous hash is empty. An audit entry's hash is what the database's
rs_audit_digest() computes (migrations/versions/0001_foundation.py): SHA-256(previous hash ‖ the
entry's fields joined by U+001F), with the time in microseconds since the epoch and the details
as PostgreSQL spells the jsonb (the package carries that text as it was hashed).

The custody flags (gaps, changed seals, time running backwards) are read from the entries'
bodies alone, here too, so the dashboard, the package and the verifier show the same."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Flag:
    seq: int
    kind: str  # gap, seal, time, start
    detail: str


def holder_of(party: dict | None) -> str | None:
    if not party:
        return None
    return f"user {party['user']}" if "user" in party else f"{party['external']} (outside)"


def custody_flags(bodies: list[dict]) -> list[Flag]:
    flags: list[Flag] = []
    holder: str | None = None
    seal: str | None = None
    last_at: str | None = None
    for body in bodies:
        seq, kind = body["seq"], body["kind"]
        if kind == "correction":
            continue
        if seq == 1 and kind != "intake":
            flags.append(Flag(seq, "start", "the log does not start with an intake"))
        giver = holder_of(body.get("from"))
        if seq > 1 and giver != holder:
            flags.append(
                Flag(
                    seq,
                    "gap",
                    f"handed over by {giver or 'nobody recorded'} while the log has it with "
                    f"{holder or 'nobody'}: who held it in between is unknown",
                )
            )
        if body.get("seal_number") and seal and body["seal_number"] != seal:
            flags.append(
                Flag(seq, "seal", f"seal {body['seal_number']} where entry before had {seal}")
            )
        if last_at and body["at"] < last_at:
            flags.append(Flag(seq, "time", f"dated {body['at']}, before the entry before it"))
        holder = holder_of(body.get("to"))
        seal = body.get("seal_number") or seal
        last_at = body["at"]
    return flags
