"""Pull cursors: opaque to devices, signed, bound to one device, and commit-ordered.

A cursor carries a PostgreSQL snapshot (`pg_snapshot`, as text): the changes a device has seen
are exactly the transactions that snapshot saw as committed. The next pull sends the rows whose
last change the snapshot did not see — including a long transaction that was still running when
the snapshot was taken and committed after a shorter one. Within a round of pages the cursor also
carries the upper snapshot and the position reached.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from dataclasses import asdict, dataclass

from server.core.errors import DomainError, Gone


class CursorInvalid(DomainError):
    status = 400
    code = "cursor-invalid"
    title = "This cursor cannot be used"


class CursorExpired(Gone):
    code = "cursor-expired"
    title = "This cursor is older than the server keeps deletions"


@dataclass(frozen=True)
class Cursor:
    device: str
    seen: str | None  # pg_snapshot text: what the device has; None: nothing (full resync)
    upto: str | None = None  # the round's upper snapshot while paging, else None
    kind: int = 0  # paging position: index into the pull's kinds …
    after: str | None = None  # … and the last id sent of that kind

    def encode(self, secret: str) -> str:
        payload = json.dumps(asdict(self), separators=(",", ":")).encode()
        return _b64(payload) + "." + _b64(_mac(secret, payload))

    @classmethod
    def decode(cls, token: str, secret: str, device_id: uuid.UUID) -> Cursor:
        try:
            body, mac = token.split(".")
            payload = _unb64(body)
            if not hmac.compare_digest(_unb64(mac), _mac(secret, payload)):
                raise ValueError("signature")
            cursor = cls(**json.loads(payload))
        except (ValueError, TypeError, KeyError, json.JSONDecodeError):
            raise CursorInvalid(
                "this cursor was not issued by this server; pull without a cursor to resync",
                errors={"cursor": ["invalid"]},
            ) from None
        if cursor.device != str(device_id):
            raise CursorInvalid(
                "this cursor belongs to another device", errors={"cursor": ["not yours"]}
            )
        return cursor


def _mac(secret: str, payload: bytes) -> bytes:
    return hmac.new(secret.encode(), b"rangersync-cursor:" + payload, hashlib.sha256).digest()[:16]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def expired() -> CursorExpired:
    return CursorExpired(
        "deletions newer than this cursor have been purged; pull without a cursor to get "
        "everything afresh, then carry on with the cursor that answer gives",
        extra={"full_resync": "GET /api/v1/sync/pull"},
    )
