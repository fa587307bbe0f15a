"""Has anything under a map changed since a snapshot? The question a cached tile and a built
offline package both ask before they are used again.

Rows devices pull carry `change_xid`, the transaction that last changed them; deletions leave
tombstones with theirs. A tile or package remembers the snapshot (`pg_current_snapshot()`) it
was read in, and is current exactly while no row of its sources, in its areas, carries a
transaction that snapshot did not see — the pull cursor's test, exact even when a long
transaction commits after a short one. No counters, so no row that every writer must lock.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy import text
from sqlalchemy.orm import Session

# A map source: the table, its area column, its extra condition, and its tombstone kind if rows
# are ever deleted outright (soft deletions are updates and bump change_xid themselves).
SOURCES: dict[str, tuple[str, str, str | None]] = {
    "boundary": ("areas", "id", None),
    "zones": ("zones", "area_id", "zone"),
    "features": ("map_features", "area_id", "map_feature"),
    "patrols": ("patrols", "area_id", None),
    "reports": ("reports", "area_id", "report"),
}
# Tables of every area whose rows a source's tiles show (a report tile names its category).
SHARED: dict[str, tuple[str, ...]] = {"reports": ("report_categories",)}
_UNSEEN = (
    "change_xid >= CAST(:xmin AS xid8)"
    " AND NOT pg_visible_in_snapshot(change_xid, CAST(:snap AS pg_snapshot))"
)


def snapshot_xmin(snapshot: str) -> str:
    """The oldest transaction a snapshot did not see as finished ('xmin:xmax:xip,…')."""
    return snapshot.split(":", 1)[0]


def changed_since(
    session: Session, snapshot: str, area_ids: Sequence[uuid.UUID], sources: Iterable[str]
) -> bool:
    """True if any row of `sources` in `area_ids` changed in a transaction `snapshot` missed.

    The xmin is bound as a plain value so the planner range-scans the change_xid index: only
    the changes since the snapshot are read, however big the tables are."""
    query, kinds = _query(tuple(sources))
    params = {"xmin": snapshot_xmin(snapshot), "snap": snapshot, "areas": list(area_ids)}
    return session.execute(query, params | {"kinds": list(kinds)}).scalar_one()


@functools.lru_cache(maxsize=32)
def _query(sources: tuple[str, ...]):
    """The statement for a set of sources, built once: a cached tile's check is on the hot path."""
    tests, kinds = [], []
    for source in sources:
        table, area_column, tombstone_kind = SOURCES[source]
        tests.append(
            f"EXISTS (SELECT 1 FROM {table} WHERE {_UNSEEN} AND {area_column} = ANY(:areas))"  # noqa: S608
        )
        if tombstone_kind:
            kinds.append(tombstone_kind)
        for shared in SHARED.get(source, ()):
            tests.append(f"EXISTS (SELECT 1 FROM {shared} WHERE {_UNSEEN})")  # noqa: S608
    if kinds:
        tests.append(
            f"EXISTS (SELECT 1 FROM tombstones WHERE {_UNSEEN}"  # noqa: S608
            " AND kind = ANY(:kinds) AND area_id = ANY(:areas))"
        )
    # Every fragment is a constant of this module; the values are bound parameters.
    return text("SELECT " + " OR ".join(tests)), tuple(kinds)
