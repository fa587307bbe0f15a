"""Partner keys: issued by an area's admins, shown once, stored as SHA-256, revocable at once.

A key acts as the `partner` role in the areas it was issued for and nowhere else; it may be
narrowed to some collections and to source networks (CIDR). It is only ever accepted by the
partner API (`/ogc/`): the rest of the API does not know the `rsp_` prefix and answers 401.
"""

from __future__ import annotations

import ipaddress
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from limits import parse_many
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from server.areas.models import Area
from server.core import audit, tokens
from server.core.db import utcnow
from server.core.errors import Forbidden, Invalid, NotFound, TokenRevoked, Unauthenticated
from server.core.policy import Action, Actor, authorize
from server.partners.models import PartnerKey, PartnerKeyArea

KEY_PREFIX = "rsp_"
DEFAULT_DAYS = 365
MAX_DAYS = 3 * 365
DEFAULT_RATE_LIMIT = "120/minute"
# Every collection name a key may be narrowed to; map layers are "layer-<name>".
BUILT_IN_COLLECTIONS = ("boundary", "zones", "observations", "effort", "findings")
LAYER_COLLECTION_PREFIX = "layer-"


@dataclass(frozen=True)
class IssuedKey:
    id: uuid.UUID
    key: str  # shown once
    organisation: str
    areas: list[str]
    collections: list[str] | None
    networks: list[str] | None
    rate_limit: str
    expires_at: datetime


@dataclass(frozen=True)
class KeyAccess:
    """What an authenticated partner key may reach."""

    actor: Actor
    key_id: uuid.UUID
    collections: frozenset[str] | None
    rate_limit: str


def _area_ids(session: Session, actor: Actor, slugs: list[str]) -> dict[uuid.UUID, str]:
    rows = session.execute(select(Area.id, Area.slug).where(Area.slug.in_(slugs))).all()
    found = {slug: area_id for area_id, slug in rows}
    missing = [s for s in slugs if s not in found]
    if missing:
        raise NotFound(f"no area {missing[0]!r}")
    for slug, area_id in found.items():
        authorize(actor, Action.PARTNER_MANAGE, area_id, f"area {slug!r}")
    return {area_id: slug for slug, area_id in found.items()}


def _check_collections(collections: list[str] | None) -> list[str] | None:
    if collections is None:
        return None
    bad = [
        c
        for c in collections
        if c not in BUILT_IN_COLLECTIONS and not c.startswith(LAYER_COLLECTION_PREFIX)
    ]
    if bad or not collections:
        raise Invalid(
            "collections are named " + ", ".join(BUILT_IN_COLLECTIONS) + " or layer-<layer>",
            errors={"collections": [f"unknown: {', '.join(bad)}" if bad else "empty"]},
        )
    return sorted(set(collections))


def _check_networks(networks: list[str] | None) -> list[str] | None:
    if networks is None:
        return None
    checked = []
    for i, network in enumerate(networks):
        try:
            checked.append(str(ipaddress.ip_network(network, strict=True)))
        except ValueError as error:
            raise Invalid(
                f"not a network in CIDR notation: {network!r}",
                errors={f"networks/{i}": [str(error)]},
            ) from error
    return checked


def _check_rate_limit(rate_limit: str) -> str:
    try:
        parse_many(rate_limit)
    except ValueError as error:
        raise Invalid(
            f"not a rate limit: {rate_limit!r} (write it as '120/minute' or '1000/hour')",
            errors={"rate_limit": [str(error)]},
        ) from error
    return rate_limit


def issue_key(
    session: Session,
    actor: Actor,
    *,
    areas: list[str],
    organisation: str,
    collections: list[str] | None = None,
    days: int = DEFAULT_DAYS,
    networks: list[str] | None = None,
    rate_limit: str = DEFAULT_RATE_LIMIT,
) -> IssuedKey:
    """Issue a key for `organisation` over `areas` (the actor must be admin in each)."""
    if not areas:
        raise Invalid("a key reaches at least one area", errors={"areas": ["empty"]})
    area_ids = _area_ids(session, actor, sorted(set(areas)))
    if not 1 <= days <= MAX_DAYS:
        raise Invalid(f"a key lives 1 to {MAX_DAYS} days", errors={"days": ["out of range"]})
    if not organisation.strip():
        raise Invalid("name the partner organisation", errors={"organisation": ["empty"]})
    key = tokens.new_token(KEY_PREFIX)
    row = PartnerKey(
        organisation=organisation.strip(),
        key_hash=tokens.digest(key),
        key_prefix=key[:10],
        collections=_check_collections(collections),
        networks=_check_networks(networks),
        rate_limit=_check_rate_limit(rate_limit),
        expires_at=utcnow() + timedelta(days=days),
        created_by=actor.user_id,
    )
    session.add(row)
    session.flush()
    session.add_all(PartnerKeyArea(key_id=row.id, area_id=a) for a in area_ids)
    for area_id in area_ids:
        audit.record(
            session,
            actor,
            "partner_key.issue",
            "partner_key",
            row.id,
            area_id=area_id,
            organisation=row.organisation,
            collections=row.collections,
        )
    session.flush()
    return IssuedKey(
        row.id,
        key,
        row.organisation,
        sorted(area_ids.values()),
        row.collections,
        row.networks,
        row.rate_limit,
        row.expires_at,
    )


def _key_view(row: PartnerKey, areas: list[str]) -> dict:
    now = utcnow()
    state = "revoked" if row.revoked_at else "expired" if row.expires_at <= now else "active"
    return {
        "id": row.id,
        "organisation": row.organisation,
        "key_prefix": row.key_prefix,
        "areas": areas,
        "collections": row.collections,
        "networks": [str(n) for n in row.networks] if row.networks else None,
        "rate_limit": row.rate_limit,
        "expires_at": row.expires_at,
        "revoked_at": row.revoked_at,
        "created_at": row.created_at,
        "last_used_at": row.last_used_at,
        "state": state,
    }


def _areas_of(session: Session, key_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    rows = session.execute(
        select(PartnerKeyArea.key_id, Area.slug)
        .join(Area, Area.id == PartnerKeyArea.area_id)
        .where(PartnerKeyArea.key_id.in_(key_ids))
        .order_by(Area.slug)
    )
    found: dict[uuid.UUID, list[str]] = {k: [] for k in key_ids}
    for key_id, slug in rows:
        found[key_id].append(slug)
    return found


def list_keys(session: Session, actor: Actor, area_id: uuid.UUID) -> list[dict]:
    """The keys that reach the area, newest first (never the keys themselves)."""
    authorize(actor, Action.PARTNER_MANAGE, area_id, "area")
    keys = list(
        session.scalars(
            select(PartnerKey)
            .join(PartnerKeyArea, PartnerKeyArea.key_id == PartnerKey.id)
            .where(PartnerKeyArea.area_id == area_id)
            .order_by(PartnerKey.created_at.desc(), PartnerKey.id)
        )
    )
    areas = _areas_of(session, [k.id for k in keys])
    return [_key_view(k, areas[k.id]) for k in keys]


def _key_areas(session: Session, key_id: uuid.UUID) -> list[uuid.UUID]:  # for revocation
    return list(
        session.scalars(select(PartnerKeyArea.area_id).where(PartnerKeyArea.key_id == key_id))
    )


def revoke_key(session: Session, actor: Actor, key_id: uuid.UUID) -> dict:
    """Revoke a key: its next request is refused. An admin of any area the key reaches may."""
    row = session.get(PartnerKey, key_id, with_for_update=True)
    area_ids = _key_areas(session, key_id) if row else []
    if row is None or not any(actor.may(Action.PARTNER_MANAGE, a) for a in area_ids):
        if row is not None and any(actor.role_in(a) for a in area_ids):
            raise Forbidden("only an admin of the key's area may revoke it")
        raise NotFound("no such partner key")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        for area_id in area_ids:
            audit.record(
                session, actor, "partner_key.revoke", "partner_key", row.id, area_id=area_id
            )
        session.flush()
    return _key_view(row, _areas_of(session, [row.id])[row.id])


@dataclass(frozen=True)
class FoundKey:
    """A key's row as authentication needs it, with the areas it reaches (one query)."""

    id: uuid.UUID
    collections: list[str] | None
    networks: list[str] | None
    rate_limit: str
    expires_at: datetime
    revoked_at: datetime | None
    area_ids: list[uuid.UUID]


def find_key(session: Session, key: str) -> FoundKey | None:
    """The key's row, whatever its state (so that refused requests are logged against it)."""
    if not key.startswith(KEY_PREFIX):
        return None
    row = (
        session.execute(
            text(
                """SELECT k.id, k.collections, k.networks::text[] AS networks, k.rate_limit,
                      k.expires_at, k.revoked_at,
                      ARRAY(SELECT area_id FROM partner_key_areas WHERE key_id = k.id) AS area_ids
               FROM partner_keys k WHERE k.key_hash = :hash"""
            ),
            {"hash": tokens.digest(key)},
        )
        .mappings()
        .first()
    )
    return FoundKey(**row) if row else None


def authenticate_key(session: Session, row: FoundKey | None, remote_addr: str | None) -> KeyAccess:
    """Check a found key: unknown, revoked or expired → 401; outside its networks → 403."""
    if row is None:
        raise Unauthenticated("unknown partner key")
    if row.revoked_at is not None:
        raise TokenRevoked("this partner key has been revoked")
    if row.expires_at <= utcnow():
        raise Unauthenticated("this partner key has expired; ask the park for a new one")
    if row.networks:
        address = ipaddress.ip_address(remote_addr or "0.0.0.0")  # noqa: S104 (matches nothing)
        if not any(address in ipaddress.ip_network(n) for n in row.networks):
            raise Forbidden("this partner key is not accepted from your network")
    actor = Actor("partner_key", row.id, {area_id: "partner" for area_id in row.area_ids})
    collections = frozenset(row.collections) if row.collections is not None else None
    return KeyAccess(actor, row.id, collections, row.rate_limit)


def key_access_by_id(session: Session, key_id: uuid.UUID) -> KeyAccess:
    """A key's rights now, for work it asked for earlier (an export job): revoked or expired →
    401 as at the door. Its networks were checked when it asked."""
    row = (
        session.execute(
            text(
                """SELECT k.id, k.collections, NULL::text[] AS networks, k.rate_limit,
                      k.expires_at, k.revoked_at,
                      ARRAY(SELECT area_id FROM partner_key_areas WHERE key_id = k.id) AS area_ids
               FROM partner_keys k WHERE k.id = :id"""
            ),
            {"id": key_id},
        )
        .mappings()
        .first()
    )
    return authenticate_key(session, FoundKey(**row) if row else None, None)


# One statement: the log row, and the key's last use (at most once a minute, so that a busy key
# does not queue its requests on its own row lock). The log need not wait for its WAL flush: a
# crash may lose the last fraction of a second of log, never data, and each partner request
# saves a disk flush.
_LOG = """
    WITH quick AS (SELECT set_config('synchronous_commit', 'off', true)),
    logged AS (
        INSERT INTO partner_requests (key_id, method, path, query, collection, bbox, features,
                                      status, remote_addr)
        VALUES (:key, :method, :path, :query, :collection, :bbox, :features, :status,
                CAST(:remote_addr AS inet)))
    UPDATE partner_keys SET last_used_at = now() FROM quick
    WHERE id = :key AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')"""


def log_request(
    session: Session,
    key_id: uuid.UUID,
    *,
    method: str,
    path: str,
    query: str,
    status: int,
    remote_addr: str | None,
    collection: str | None = None,
    bbox: list[float] | None = None,
    features: int | None = None,
) -> None:
    session.execute(
        text(_LOG),
        {
            "key": key_id,
            "method": method,
            "path": path,
            "query": query,
            "collection": collection,
            "bbox": bbox,
            "features": features,
            "status": status,
            "remote_addr": remote_addr,
        },
    )


def request_log(
    session: Session,
    actor: Actor,
    area_id: uuid.UUID,
    *,
    key_id: uuid.UUID | None = None,
    before_id: int | None = None,
    limit: int = 100,
) -> list[dict]:
    """Requests made with the keys that reach the area, newest first (keyset by id)."""
    authorize(actor, Action.PARTNER_MANAGE, area_id, "area")
    rows = session.execute(
        text(
            """
            SELECT r.id, r.key_id, k.organisation, r.at, r.method, r.path, r.query,
                   r.collection, r.bbox, r.features, r.status, host(r.remote_addr) AS remote_addr
            FROM partner_requests r JOIN partner_keys k ON k.id = r.key_id
            WHERE r.key_id IN (SELECT key_id FROM partner_key_areas WHERE area_id = :area)
              AND (CAST(:key AS uuid) IS NULL OR r.key_id = :key)
              AND (CAST(:before AS bigint) IS NULL OR r.id < :before)
            ORDER BY r.id DESC LIMIT :limit"""
        ),
        {"area": area_id, "key": key_id, "before": before_id, "limit": limit},
    ).mappings()
    return [dict(r) for r in rows]
