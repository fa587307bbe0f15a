"""The server's Ed25519 signing keys, kept as PEM files in EVIDENCE_KEYS_DIR (var/evidence-keys).

The newest key signs; rotating adds a newer one and keeps the old ones, whose public halves stay
published (GET /api/v1/evidence/keys) so that every receipt and package ever signed still
verifies. A file's name is `<UTC time made>-<key id>.pem`, so the newest sorts last. Every app
process reads the same directory (on several nodes: the same files, like SECRET_KEY)."""

from __future__ import annotations

import base64
import fcntl
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sync.protocol.receipts import key_id

SUFFIX = ".pem"


@dataclass(frozen=True)
class SigningKey:
    key_id: str
    created_at: datetime
    private: Ed25519PrivateKey

    @property
    def public_raw(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    def sign(self, data: bytes) -> bytes:
        return self.private.sign(data)

    def published(self, current: bool) -> dict:
        return {
            "key_id": self.key_id,
            "algorithm": "Ed25519",
            "public_key": base64.b64encode(self.public_raw).decode(),
            "created_at": self.created_at.isoformat(),
            "current": current,
        }


class Keyring:
    """The signing keys in one directory; made on first use."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def keys(self) -> list[SigningKey]:
        """Every key, oldest first (a first one is made if there is none)."""
        found = self._read()
        if not found:
            self.rotate(only_if_empty=True)
            found = self._read()
        return found

    def current(self) -> SigningKey:
        return self.keys()[-1]

    def get(self, wanted: str) -> SigningKey | None:
        return next((k for k in self.keys() if k.key_id == wanted), None)

    def published(self) -> list[dict]:
        keys = self.keys()
        return [k.published(current=k is keys[-1]) for k in keys]

    def rotate(self, *, only_if_empty: bool = False) -> SigningKey:
        """Make a new current key (under a lock, so concurrent first uses make one key)."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        with open(self.directory / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            existing = self._read()
            if only_if_empty and existing:
                return existing[-1]
            private = Ed25519PrivateKey.generate()
            now = datetime.now(UTC)
            if existing and now <= existing[-1].created_at:  # keep names in time order
                now = existing[-1].created_at + timedelta(microseconds=1)
            made = SigningKey(key_id(_raw(private)), now, private)
            pem = private.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            name = f"{now.strftime('%Y%m%dT%H%M%S%fZ')}-{made.key_id}{SUFFIX}"
            fd = os.open(self.directory / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(pem)
            return made

    def _read(self) -> list[SigningKey]:
        if not self.directory.is_dir():
            return []
        keys = []
        for path in sorted(self.directory.glob(f"*{SUFFIX}")):
            stamp = path.name.split("-", 1)[0]
            private = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if not isinstance(private, Ed25519PrivateKey):
                raise RuntimeError(f"{path} is not an Ed25519 key")
            created = datetime.strptime(stamp, "%Y%m%dT%H%M%S%fZ").replace(tzinfo=UTC)
            keys.append(SigningKey(key_id(_raw(private)), created, private))
        return keys


def _raw(private: Ed25519PrivateKey) -> bytes:
    return private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
