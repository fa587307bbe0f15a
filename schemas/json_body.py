"""The one strict JSON loader for request bodies.

Python's json module accepts more than JSON and less than a server needs: it reads NaN and
Infinity, turns 1e400 into infinity, keeps a lone UTF-16 surrogate ("\\ud800", no character at
all) in a str that no database or encoder will take, and recurses once per bracket until the
interpreter gives up. Here a body is refused when it is no JSON (StrictJSONError: the body's
fault as a whole) or when it holds a value nothing can store (first_flaw: a pointer to it).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

MAX_DEPTH = 64  # arrays and objects inside each other; our deepest shape (a polygon) needs 6

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(set(range(256)) - set(b"[]{}"))
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


class StrictJSONError(ValueError):
    """The body is not JSON, or JSON no server should parse."""


@dataclass(frozen=True)
class Flaw:
    """A value that parsed but cannot be taken: where it is, a stable code and why."""

    pointer: str
    code: str
    detail: str


def loads_strict(data: str | bytes) -> Any:
    """The parsed body; StrictJSONError when it is no JSON, nested past MAX_DEPTH, or spells NaN
    or Infinity. Values inside it are not judged here: ask first_flaw."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if nesting_depth(raw) > MAX_DEPTH:
        raise StrictJSONError(f"the JSON is nested deeper than {MAX_DEPTH} levels")
    try:
        return json.loads(raw, parse_constant=_refuse_constant)
    except RecursionError:  # unbalanced brackets the depth count could not see through
        raise StrictJSONError(f"the JSON is nested deeper than {MAX_DEPTH} levels") from None


def nesting_depth(raw: bytes) -> int:
    """How deep arrays and objects nest, counted on the bytes (strings skipped) so that a body
    is measured before the recursive parser ever sees it."""
    brackets = _STRING.sub(b"", raw).translate(None, _NOT_BRACKETS)
    if not brackets:
        return 0
    return max(accumulate(_STEP[b] for b in brackets))


def first_flaw(value: Any) -> Flaw | None:
    """The first string holding a lone surrogate, or number that is not finite, or None."""
    try:  # the common case at C speed: serialise, and walk only if there is trouble
        json.dumps(value, ensure_ascii=False, allow_nan=False).encode("utf-8")
        return None
    except (ValueError, UnicodeEncodeError):
        return _flaw_at(value, "")


def _flaw_at(value: Any, pointer: str) -> Flaw | None:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return Flaw(
                pointer or "/",
                "lone-surrogate",
                "holds a lone UTF-16 surrogate, which is no character; send valid Unicode",
            )
        return None
    if isinstance(value, float):
        if math.isfinite(value):
            return None
        return Flaw(
            pointer or "/",
            "non-finite-number",
            "is not a finite number (too large for a double, or NaN or Infinity)",
        )
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{pointer}/{key.replace('~', '~0').replace('/', '~1')}"
            if found := _flaw_at(key, where) or _flaw_at(item, where):
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if found := _flaw_at(item, f"{pointer}/{index}"):
                return found
    return None


def _refuse_constant(name: str) -> Any:
    raise StrictJSONError(f"{name} is not valid JSON")
