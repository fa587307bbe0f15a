"""Whole numbers from request headers and query strings, read one way everywhere.

str.isdigit() says yes to "²" (which int() then refuses) and to "１２" (which int() quietly reads
as 12); int() reads thousands of digits that no column holds. Here a count is ASCII digits only,
no sign, no spaces, at most what PostgreSQL's bigint holds; anything else is a 400.
"""

from __future__ import annotations

import re

from server.core.errors import DomainError

MAX_BIGINT = 2**63 - 1
_ASCII_DIGITS = re.compile(r"[0-9]{1,19}")  # [0-9], not \d: \d matches every script's digits


class NotANumber(DomainError):
    status = 400
    code = "not-a-number"
    title = "Not a whole number"


def whole_number(raw: str, name: str, *, maximum: int = MAX_BIGINT) -> int:
    """`raw` (the value of header or query parameter `name`) as an int from 0 to `maximum`."""
    if not _ASCII_DIGITS.fullmatch(raw) or int(raw) > maximum:
        shown = raw if len(raw) <= 40 else raw[:40] + "…"
        raise NotANumber(
            f"{name} must be a whole number from 0 to {maximum} in ASCII digits, not {shown!r}",
            errors={name: [f"a whole number from 0 to {maximum}"]},
        )
    return int(raw)
