"""Rotating the keys: a new signing key takes over and the old one stays published, so what it
signed still verifies; a new key for suspects' data seals from then on and the old one still
opens what it sealed."""

from __future__ import annotations

import base64

import pytest
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from server.cases.keys import Keyring
from server.cases.service import Sealer
from server.core.errors import Conflict
from sync.protocol.receipts import key_id


def test_a_rotated_signing_key_takes_over_and_the_old_one_stays_published(tmp_path):
    keyring = Keyring(tmp_path / "keys")
    first = keyring.current()  # made on first use
    signed = first.sign(b"receipt")
    second = keyring.rotate()
    assert keyring.current().key_id == second.key_id != first.key_id
    published = keyring.published()
    assert [(k["key_id"], k["current"]) for k in published] == [
        (first.key_id, False),
        (second.key_id, True),
    ]
    old = next(k for k in published if k["key_id"] == first.key_id)
    raw = base64.b64decode(old["public_key"])
    assert key_id(raw) == first.key_id
    Ed25519PublicKey.from_public_bytes(raw).verify(signed, b"receipt")  # raises if it does not
    assert Keyring(tmp_path / "keys").current().key_id == second.key_id  # another process agrees


def test_the_keys_endpoint_publishes_every_key(client, app):
    keyring = app.extensions["rangersync.cases"].keyring
    before = {k["key_id"] for k in keyring.published()}
    keyring.rotate()
    answer = client.get("/api/v1/evidence/keys")
    assert answer.status_code == 200
    listed = answer.get_json()
    assert before < {k["key_id"] for k in listed}
    assert [k["current"] for k in listed].count(True) == 1 and listed[-1]["current"]


def test_suspects_data_survives_a_key_rotation(tmp_path):
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    sealed = Sealer((old_key,)).seal({"name": "A"})
    rotated = Sealer((new_key, old_key))
    assert rotated.open(sealed) == {"name": "A"}
    resealed = rotated.seal({"name": "B"})
    assert Sealer((new_key,)).open(resealed) == {"name": "B"}
    with pytest.raises(Conflict):  # a key dropped too early: said, not a crash
        Sealer((new_key,)).open(sealed)
