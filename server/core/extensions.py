"""Extension points: where a capability low in the layers lets one above it add to what it
answers, without importing it. The composition (the app factory) registers; the lower capability
only reads the registry.

`AREA_DETAILS`: name → function(session, area id, area slug) → value, each added to an area's
details under its name (maps adds `map_package`, the manifest of the area's offline package).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

AreaDetail = Callable[[Session, uuid.UUID, str], Any]
AREA_DETAILS: dict[str, AreaDetail] = {}


def add_area_detail(name: str, detail: AreaDetail) -> None:
    """Registering the same name again replaces it (an app factory may run more than once)."""
    AREA_DETAILS[name] = detail
