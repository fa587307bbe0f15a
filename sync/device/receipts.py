"""Checking an evidence receipt on the device: it must be signed by one of the server's published
keys and state the very file the device took (its id, SHA-256 and size). A receipt that does not
is refused, with why, and kept apart: the device's copy of the file stays the proof."""

from __future__ import annotations

import base64
import binascii
import json

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from sync.protocol.receipts import key_id, mismatches


class ReceiptRefused(Exception):
    """The receipt does not prove what it should."""


def verify_receipt(
    receipt: dict, public_keys: list[dict], *, attachment_id: str, sha256: str, size_bytes: int
) -> dict:
    """The receipt's statement (its payload) if it holds; ReceiptRefused otherwise."""
    keys = {}
    for published in public_keys:
        try:
            raw = base64.b64decode(published["public_key"], validate=True)
        except (KeyError, binascii.Error):
            continue
        if key_id(raw) == published.get("key_id"):  # a key is named by its own hash
            keys[published["key_id"]] = Ed25519PublicKey.from_public_bytes(raw)
    key = keys.get(receipt.get("key_id"))
    if key is None:
        raise ReceiptRefused(
            f"signed by key {receipt.get('key_id')!r}, not one the server publishes"
        )
    try:
        signature = base64.b64decode(receipt["signature"], validate=True)
        key.verify(signature, receipt["payload"].encode())
    except (KeyError, binascii.Error, InvalidSignature, AttributeError):
        raise ReceiptRefused("the signature does not verify") from None
    payload = json.loads(receipt["payload"])
    wrong = mismatches(payload, attachment_id=attachment_id, sha256=sha256, size_bytes=size_bytes)
    if wrong:
        raise ReceiptRefused("; ".join(wrong))
    return payload
