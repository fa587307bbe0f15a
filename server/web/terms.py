"""The words of the domain's vocabularies (roles, statuses, severities…) as the dashboard shows
them, translated: the stored value stays English and machine-readable, its label follows the
page's language. Templates call `term("role", area.role)`; a value without a label shows as is."""

from __future__ import annotations

from server.core.i18n import lazy_gettext as _l

TERMS = {
    "role": {
        "admin": _l("admin"),
        "manager": _l("manager"),
        "ranger": _l("ranger"),
        "partner": _l("partner"),
    },
    "zone_kind": {
        "management": _l("management"),
        "intensive_protection": _l("intensive protection"),
        "danger": _l("danger"),
        "buffer": _l("buffer"),
        "community": _l("community"),
        "other": _l("other"),
    },
    "effort_by": {
        "ranger": _l("by ranger"),
        "team": _l("by team"),
        "patrol_type": _l("by patrol type"),
        "zone": _l("by zone"),
        "month": _l("by month"),
    },
}


def term(kind: str, value: str | None) -> str:
    if value is None:
        return "—"
    label = TERMS.get(kind, {}).get(value)
    return str(label) if label is not None else value
