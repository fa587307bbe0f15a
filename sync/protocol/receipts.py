"""Evidence receipts as both sides read them: the server signs (Ed25519) the canonical JSON of
what it received (the file's SHA-256, the device, the capture time and position, the time it
was stored); the device keeps the receipt and checks it against the file it took.

A receipt on the wire: {"key_id": "…", "payload": "<canonical JSON>", "signature": "<base64>"}.
The signature covers the payload's UTF-8 bytes exactly as sent, so nobody has to agree on how to
re-serialise JSON. A key id is the first 16 hex digits of the SHA-256 of the raw public key."""

from __future__ import annotations

import hashlib
import json
from typing import Any

RECEIPT_VERSION = 1
KEY_ID_HEX_DIGITS = 16


def canonical(data: Any) -> str:
    """One spelling of a JSON value: sorted keys, no spaces, ASCII only."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def key_id(raw_public_key: bytes) -> str:
    return hashlib.sha256(raw_public_key).hexdigest()[:KEY_ID_HEX_DIGITS]


def payload_text(
    *,
    attachment_id: str,
    sha256: str,
    size_bytes: int,
    media_type: str,
    device_id: str | None,
    report_id: str,
    captured_at: str,
    position: list[float] | None,
    received_at: str,
    area: str,
    key: str,
) -> str:
    """What a receipt states, in its one canonical spelling."""
    return canonical(
        {
            "v": RECEIPT_VERSION,
            "attachment_id": attachment_id,
            "sha256": sha256,
            "size_bytes": size_bytes,
            "media_type": media_type,
            "device_id": device_id,
            "report_id": report_id,
            "captured_at": captured_at,
            "position": position,
            "received_at": received_at,
            "area": area,
            "key_id": key,
        }
    )


def mismatches(payload: dict, *, attachment_id: str, sha256: str, size_bytes: int) -> list[str]:
    """How a receipt's statement differs from the file it should be about (empty: it matches)."""
    found = []
    if payload.get("v") != RECEIPT_VERSION:
        found.append(f"receipt version {payload.get('v')!r}, expected {RECEIPT_VERSION}")
    if payload.get("attachment_id") != attachment_id:
        found.append(f"it is about attachment {payload.get('attachment_id')}, not {attachment_id}")
    if payload.get("sha256") != sha256:
        found.append(f"it states SHA-256 {payload.get('sha256')}, the file's is {sha256}")
    if payload.get("size_bytes") != size_bytes:
        found.append(f"it states {payload.get('size_bytes')} bytes, the file has {size_bytes}")
    return found
