"""The device's check of an evidence receipt: a receipt holds only if one of the server's
published keys signed it and it states the very file the device took."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sync.device.receipts import ReceiptRefused, verify_receipt
from sync.protocol.receipts import key_id, payload_text

FILE = b"\xff\xd8\xff the photo"


def _published(private: Ed25519PrivateKey) -> dict:
    raw = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return {"key_id": key_id(raw), "public_key": base64.b64encode(raw).decode()}


def _receipt(private: Ed25519PrivateKey, claimed_key: str, sha256: str) -> dict:
    payload = payload_text(
        attachment_id="a-1",
        sha256=sha256,
        size_bytes=len(FILE),
        media_type="image/jpeg",
        device_id="d-1",
        report_id="r-1",
        captured_at="2026-11-29T08:00:00+00:00",
        position=[37.1, -3.4],
        received_at="2026-11-29T09:00:00+00:00",
        area="demo",
        key=claimed_key,
    )
    signature = base64.b64encode(private.sign(payload.encode())).decode()
    return {"key_id": claimed_key, "payload": payload, "signature": signature}


def _check(receipt: dict, keys: list[dict]) -> dict:
    sha = hashlib.sha256(FILE).hexdigest()
    return verify_receipt(receipt, keys, attachment_id="a-1", sha256=sha, size_bytes=len(FILE))


def test_a_receipt_from_the_servers_key_about_this_file_holds():
    server = Ed25519PrivateKey.generate()
    published = _published(server)
    receipt = _receipt(server, published["key_id"], hashlib.sha256(FILE).hexdigest())
    assert _check(receipt, [published])["captured_at"] == "2026-11-29T08:00:00+00:00"


def test_a_receipt_signed_by_another_key_is_refused():
    server, forger = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    published = _published(server)
    receipt = _receipt(forger, published["key_id"], hashlib.sha256(FILE).hexdigest())
    with pytest.raises(ReceiptRefused, match="signature does not verify"):
        _check(receipt, [published])
    with pytest.raises(ReceiptRefused, match="not one the server publishes"):
        _check(_receipt(forger, _published(forger)["key_id"], "0" * 64), [published])


def test_a_receipt_about_other_bytes_is_refused():
    server = Ed25519PrivateKey.generate()
    published = _published(server)
    receipt = _receipt(server, published["key_id"], hashlib.sha256(b"other").hexdigest())
    with pytest.raises(ReceiptRefused, match="states SHA-256"):
        _check(receipt, [published])
