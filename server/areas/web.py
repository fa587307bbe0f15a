"""The view boundary's one convention for areas: a URL's `<area>` (slug or id) is resolved once
per request, to the id of an area the caller may see (404 otherwise), before the view runs.
Services take that id, never a slug."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from server.areas.service import area_id_of
from server.core.web import current_actor, db


def in_area(view: Callable[..., Any]) -> Callable[..., Any]:
    """Put it nearest the view function: the view gets `area_id` in place of the URL's `area`
    (and `area` as well if it asks for it, to build links as the caller wrote them)."""
    wants_key = "area" in inspect.signature(view).parameters

    @functools.wraps(view)
    def resolved(*args: Any, area: str, **kwargs: Any) -> Any:
        if wants_key:
            kwargs["area"] = area
        return view(*args, area_id=area_id_of(db(), current_actor(), area), **kwargs)

    return resolved
