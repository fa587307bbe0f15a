"""The words of the domain's vocabularies (roles, zone kinds, CITES terms, units…) as the
dashboard shows them, translated: the stored value stays English and machine-readable, its
label follows the page's language. Templates call `term("role", area.role)`; a value without a
label shows as is.

The seizure vocabularies are the wire contract's own (schemas/seizures.py); their English labels
reach the translators through `extract_vocabularies`, the Babel extractor babel.cfg names."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import IO, Any

from schemas import seizures as cites
from server.core.i18n import gettext
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
    "severity": {"info": _l("info"), "warning": _l("warning"), "critical": _l("critical")},
    "alert_source": {"manager": _l("manager"), "sos": _l("SOS"), "rule": _l("rule")},
    "report_status": {
        "new": _l("new"),
        "in_review": _l("in review"),
        "confirmed": _l("confirmed"),
        "rejected": _l("rejected"),
        "closed": _l("closed"),
    },
    "attachment_state": {
        "expected": _l("expected"),
        "uploading": _l("uploading"),
        "stored": _l("stored"),
        "failed": _l("failed"),
    },
    "patrol_type": {
        "foot": _l("foot"),
        "vehicle": _l("vehicle"),
        "boat": _l("boat"),
        "aerial": _l("aerial"),
    },
    "effort_by": {
        "ranger": _l("by ranger"),
        "team": _l("by team"),
        "patrol_type": _l("by patrol type"),
        "zone": _l("by zone"),
        "month": _l("by month"),
    },
}
# code → English label, translated when shown.
VOCABULARIES: dict[str, dict[str, str]] = {
    "cites_term": {code: label for code, (label, _units) in cites.TERMS.items()},
    "unit": cites.UNITS,
    "source": cites.SOURCES,
    "detection": cites.DETECTION_METHODS,
    "transport": cites.TRANSPORT_MODES,
    "reason": cites.REASONS,
}
# The names extract_vocabularies reads in schemas/seizures.py.
VOCABULARY_NAMES = ("TERMS", "UNITS", "SOURCES", "DETECTION_METHODS", "TRANSPORT_MODES", "REASONS")


def term(kind: str, value: str | None) -> str:
    if value is None:
        return "—"
    label = TERMS.get(kind, {}).get(value)
    if label is not None:
        return str(label)
    english = VOCABULARIES.get(kind, {}).get(value)
    return gettext(english) if english is not None else value


def extract_vocabularies(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: dict
) -> Iterator[tuple[int, None, str, list[str]]]:
    """A Babel extractor: the labels of the module's vocabularies (dicts of code → label, or of
    code → a call whose first argument is the label)."""
    tree = ast.parse(fileobj.read())
    for node in ast.walk(tree):
        target: ast.expr
        if isinstance(node, ast.AnnAssign):
            target, value = node.target, node.value
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        else:
            continue
        if not isinstance(target, ast.Name) or target.id not in VOCABULARY_NAMES:
            continue
        if not isinstance(value, ast.Dict):
            continue
        for item in value.values:
            label = item.args[0] if isinstance(item, ast.Call) and item.args else item
            if isinstance(label, ast.Constant) and isinstance(label.value, str):
                yield label.lineno, None, label.value, []
