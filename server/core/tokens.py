"""Secrets handed out once and stored only as SHA-256: API tokens, device tokens, enrolment codes.

They carry 192+ bits (codes: 60 bits, single-use and short-lived), so a plain SHA-256 is the
right hash: slow password hashes protect low-entropy secrets, and these are not that.
"""

from __future__ import annotations

import hashlib
import secrets

USER_TOKEN_PREFIX = "rsu_"  # noqa: S105 (a prefix, not a secret)
DEVICE_TOKEN_PREFIX = "rsd_"  # noqa: S105
# Crockford's base32: no I, L, O, U, so a code read aloud over a radio is hard to get wrong.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 12


def digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def new_token(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def new_enrolment_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, CODE_LENGTH, 4))


def normalise_code(code: str) -> str:
    """What a person typed → the canonical code: case, spaces, dashes and look-alikes forgiven."""
    cleaned = "".join(ch for ch in code.upper() if ch not in " -")
    cleaned = cleaned.translate(str.maketrans({"O": "0", "I": "1", "L": "1"}))
    return "-".join(cleaned[i : i + 4] for i in range(0, len(cleaned), 4))
