"""The partner API's use cases: which collections a caller sees, and pages of their features.

A caller is a partner key (the `partner` role in its areas, maybe narrowed to some collections)
or a signed-in user with a role that may read partner features. A collection is named
`<area slug>.<kind>`: boundary, zones, observations, effort, findings, or layer-<layer>. One
outside the caller's reach does not exist for them (404), whether the area is not theirs or the
key was not given that collection.

Pages are keyset-paged on each source's key (`after`/`before` name the last/first key seen), so
a row added while a partner walks the pages never shifts, repeats or hides another. Features
are rendered to GeoJSON text by PostgreSQL, one row each, and joined: no Python object per
feature on the hot path.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import chain

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from server.core.errors import DomainError, NotFound
from server.core.policy import Action, Actor, authorize
from server.ogc import sources
from server.ogc.crs import DEFAULT, Crs
from server.ogc.filters import InvalidFilter, compile_filter

# Rows read from a streamed page's server-side cursor at a time (server.ogc.api streams pages
# of more features than it keeps whole in memory).
STREAM_CHUNK = 1_000


class InvalidParameter(DomainError):
    status = 400
    code = "invalid-parameter"
    title = "A query parameter is not valid"


@dataclass(frozen=True)
class Access:
    """Who reads: the actor, and the collections a partner key was narrowed to (None: all)."""

    actor: Actor
    collections: frozenset[str] | None = None
    key_id: uuid.UUID | None = None

    def may_read(self, kind: str) -> bool:
        return self.collections is None or kind in self.collections


@dataclass(frozen=True)
class Collection:
    id: str
    area_id: uuid.UUID
    area_slug: str
    area_name: str
    source: sources.Source
    bbox: list[float]

    @property
    def title(self) -> str:
        return f"{self.area_name}: {self.source.title}"


@dataclass(frozen=True)
class ItemsRequest:
    limit: int
    bbox: list[float] | None = None
    bbox_crs: Crs = DEFAULT
    start: datetime | None = None
    end: datetime | None = None
    crs: Crs = DEFAULT
    after: str | None = None
    before: str | None = None
    filter: str | dict | None = None
    filter_lang: str = "cql2-text"
    filter_crs: Crs = DEFAULT
    equals: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Page:
    features: list[str]  # GeoJSON text of each feature
    first_key: str | None
    last_key: str | None
    has_next: bool
    has_prev: bool


def _areas(session: Session, actor: Actor) -> list[dict]:
    visible = actor.area_ids_for(Action.PARTNER_FEATURES)
    return [
        dict(r)
        for r in session.execute(
            text(
                """SELECT id, slug, name, ARRAY[ST_XMin(boundary), ST_YMin(boundary),
                          ST_XMax(boundary), ST_YMax(boundary)] AS bbox
                   FROM areas WHERE CAST(:ids AS uuid[]) IS NULL OR id = ANY(:ids)
                   ORDER BY slug"""
            ),
            {"ids": None if visible is None else list(visible)},
        ).mappings()
    ]


# The distinct layers of an area by skipping through the (area_id, layer, id) index, one probe
# per layer, instead of reading every feature (a 100 000-feature layer: 0.1 ms, not 100 ms).
_LAYERS = """
    WITH RECURSIVE l AS (
        SELECT min(layer) AS layer FROM map_features
        WHERE area_id = :area AND deleted_at IS NULL
        UNION ALL
        SELECT (SELECT min(layer) FROM map_features
                WHERE area_id = :area AND deleted_at IS NULL AND layer > l.layer)
        FROM l WHERE l.layer IS NOT NULL)
    SELECT layer FROM l WHERE layer IS NOT NULL"""


def _layers(session: Session, area_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    return {a: list(session.scalars(text(_LAYERS), {"area": a})) for a in area_ids}


def collections(session: Session, access: Access) -> list[Collection]:
    """Every collection the caller may read, area by area."""
    areas = _areas(session, access.actor)
    layers = _layers(session, [a["id"] for a in areas])
    found = []
    for a in areas:
        kinds = [*sources.BUILT_IN.values(), *(sources.layer(n) for n in layers[a["id"]])]
        found.extend(
            Collection(f"{a['slug']}.{s.kind}", a["id"], a["slug"], a["name"], s, a["bbox"])
            for s in kinds
            if access.may_read(s.kind)
        )
    return found


def collection(session: Session, access: Access, collection_id: str) -> Collection:
    slug, _, kind = collection_id.partition(".")
    missing = NotFound(f"no collection {collection_id!r}")
    layer = kind.removeprefix("layer-") if kind.startswith("layer-") else None
    area = (
        session.execute(
            text(
                """SELECT a.id, a.slug, a.name, ARRAY[ST_XMin(a.boundary), ST_YMin(a.boundary),
                          ST_XMax(a.boundary), ST_YMax(a.boundary)] AS bbox,
                          CAST(:layer AS text) IS NOT NULL AND EXISTS (
                              SELECT FROM map_features f WHERE f.area_id = a.id
                              AND f.layer = :layer AND f.deleted_at IS NULL) AS has_layer
                   FROM areas a WHERE a.slug = :s"""
            ),
            {"s": slug, "layer": layer},
        )
        .mappings()
        .first()
    )
    if area is None:
        raise missing
    authorize(access.actor, Action.PARTNER_FEATURES, area["id"], "collection")
    if not access.may_read(kind):
        raise missing
    source = sources.layer(layer) if area["has_layer"] else sources.BUILT_IN.get(kind)
    if source is None:
        raise missing
    return Collection(collection_id, area["id"], area["slug"], area["name"], source, area["bbox"])


def _cast_key(source: sources.Source, value: str) -> str | uuid.UUID:
    if source.key_type == "uuid":
        try:
            return uuid.UUID(value)
        except ValueError as error:
            raise InvalidParameter(
                "not a page cursor of this collection", errors={"after": ["not a feature key"]}
            ) from error
    return value


def _feature_sql(c: Collection, crs: Crs) -> str:
    """SQL: the row `s` as GeoJSON text, assembled as text (no JSON parse of the geometry)."""
    props = ", ".join(f"'{p}', s.{p}" for p in c.source.properties)
    geometry = f"ST_AsGeoJSON({crs.output('s.geom')}, {crs.digits()})"
    return (
        """'{"type":"Feature","id":' || to_json(s.fid)::text || ',"geometry":' || """
        f"coalesce({geometry}, 'null') || "
        f"""',"properties":' || json_build_object({props})::text || '}}'"""
    )


def _where(c: Collection, q: ItemsRequest, params: dict) -> list[str]:
    where = []
    if q.bbox is not None:
        envelope = "ST_MakeEnvelope(:x0, :y0, :x1, :y1, :bbox_srid)"
        if q.bbox_crs.lat_first:
            envelope = f"ST_FlipCoordinates({envelope})"
        where.append(f"ST_Intersects(s.geom, ST_Transform({envelope}, 4326))")
        params |= dict(zip(("x0", "y0", "x1", "y1"), q.bbox, strict=True))
        params["bbox_srid"] = q.bbox_crs.srid
    names = {qb.name: qb for qb in c.source.queryables}
    for i, (name, value) in enumerate(q.equals):
        if name not in names:
            raise InvalidParameter(
                f"unknown parameter {name!r}", errors={name: ["not a parameter or queryable"]}
            )
        where.append(f"s.{name}::text = :eq{i}")
        params[f"eq{i}"] = value
    if q.filter is not None:
        sql, bound = compile_filter(q.filter, q.filter_lang, c.source, q.filter_crs)
        where.append(sql)
        params |= bound
    return where


def _select(session: Session, access: Access, collection_id: str, q: ItemsRequest):
    """The page's statement and parameters: limit + 1 rows, to know whether a next page exists."""
    c = collection(session, access, collection_id)
    params = {"area": c.area_id, "t_start": q.start, "t_end": q.end} | c.source.params
    where = _where(c, q, params)
    if q.after is not None:
        where.append("s.k > :cursor")
        params["cursor"] = _cast_key(c.source, q.after)
    elif q.before is not None:
        where.append("s.k < :cursor")
        params["cursor"] = _cast_key(c.source, q.before)
    order = "DESC" if q.before is not None else "ASC"
    sql = (
        f"SELECT s.k::text AS k, {_feature_sql(c, q.crs)} AS feature FROM ({c.source.sql}) s"
        f" {'WHERE ' + ' AND '.join(where) if where else ''}"
        f" ORDER BY s.k {order} LIMIT :limit"
    )
    return text(sql), params | {"limit": q.limit + 1}


def _run(session: Session, q: ItemsRequest, statement, params, **options) -> tuple[list, Iterator]:
    """The first rows (all of them unless streamed) and an iterator over the rest."""
    try:
        result = session.execute(statement, params, execution_options=options)
        # A server-side cursor runs the query at its first fetch: read that here, so that a
        # filter PostgreSQL cannot evaluate is the caller's 400, not a broken stream.
        first = result.fetchmany(STREAM_CHUNK) if options else result.all()
    except DBAPIError as error:
        if q.filter is None:
            raise
        session.rollback()  # a filter comparing values of different types, say: the caller's
        raise InvalidFilter(
            "the filter cannot be evaluated: " + str(error.orig).splitlines()[0],
            errors={"filter": ["compare values of the queryable's type"]},
        ) from error
    return first, iter(result)


def items(session: Session, access: Access, collection_id: str, q: ItemsRequest) -> Page:
    statement, params = _select(session, access, collection_id, q)
    rows, _ = _run(session, q, statement, params)
    backwards = q.before is not None
    more = len(rows) > q.limit
    rows = rows[: q.limit]
    if backwards:
        rows.reverse()
    return Page(
        [r.feature for r in rows],
        rows[0].k if rows else None,
        rows[-1].k if rows else None,
        has_next=more if not backwards else True,
        has_prev=(q.after is not None) if not backwards else more,
    )


@dataclass
class StreamedPage:
    """A forward page read as it is sent: `features` yields each feature's GeoJSON text from a
    server-side cursor (STREAM_CHUNK rows at a time); the keys and `has_next` are known once it
    is exhausted. The first chunk is read at once, so a bad filter fails before any byte goes."""

    rows: Iterator
    has_prev: bool
    limit: int
    count: int = 0
    first_key: str | None = None
    last_key: str | None = None
    has_next: bool = False

    def features(self) -> Iterator[str]:
        for row in self.rows:
            if self.count == self.limit:
                self.has_next = True  # the extra row: only says that a next page exists
                break
            if self.first_key is None:
                self.first_key = row.k
            self.last_key = row.k
            self.count += 1
            yield row.feature

    def page(self) -> Page:
        return Page([], self.first_key, self.last_key, self.has_next, self.has_prev)


def stream_items(
    session: Session, access: Access, collection_id: str, q: ItemsRequest
) -> StreamedPage:
    """A forward page (no `before`) as a stream: memory bounded by STREAM_CHUNK, whatever the
    limit. The session must stay open until the stream is consumed."""
    if q.before is not None:
        raise ValueError("backward pages are read whole (they are reversed)")
    statement, params = _select(session, access, collection_id, q)
    first, rest = _run(session, q, statement, params, stream_results=True, yield_per=STREAM_CHUNK)
    return StreamedPage(chain(first, rest), has_prev=q.after is not None, limit=q.limit)


def count(session: Session, access: Access, collection_id: str) -> int:
    """How many features the collection holds for this caller (what an export of it writes)."""
    c = collection(session, access, collection_id)
    params = {"area": c.area_id, "t_start": None, "t_end": None} | c.source.params
    return session.scalar(text(f"SELECT count(*) FROM ({c.source.sql}) s"), params) or 0


def item(session: Session, access: Access, collection_id: str, fid: str, crs: Crs) -> str:
    c = collection(session, access, collection_id)
    row = session.execute(
        text(f"SELECT {_feature_sql(c, crs)} FROM ({c.source.sql}) s WHERE s.fid = :fid"),
        {"area": c.area_id, "t_start": None, "t_end": None, "fid": fid} | c.source.params,
    ).first()
    if row is None:
        raise NotFound(f"no feature {fid!r} in {collection_id}")
    return row[0]
