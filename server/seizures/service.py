"""What the seizures capability does: check a seizure against the park (its patrol, taxa, reports
and photos), store it with its items, apply changes as new versions, and read seizures back.

The same functions serve a device's push (server.sync.seizures) and a manager's request: both
get the same per-field reasons, and both keep every version in `seizure_versions`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from geoalchemy2.shape import from_shape, to_shape
from marshmallow import ValidationError
from shapely.geometry import mapping
from sqlalchemy import delete, extract, func, insert, select
from sqlalchemy.orm import Session

from schemas.seizures import EDITABLE, TERMS, SeizureIn
from server.areas.models import Area
from server.areas.service import area_id_of
from server.core.db import utcnow
from server.core.errors import AlreadyExists, Conflict, Invalid, NotFound
from server.core.policy import Action, Actor, authorize
from server.patrols.models import Patrol
from server.reports.models import Attachment, Report
from server.seizures.models import Seizure, SeizureItem, SeizureVersion
from server.species.models import Taxon

SCALARS = (
    "place_name",
    "patrol_id",
    "operation",
    "agency",
    "detection_method",
    "transport_mode",
    "reason",
    "origin_countries",
    "transit_countries",
    "destination_countries",
    "offender_nationalities",
    "report_ids",
    "attachment_ids",
    "reference",
    "notes",
)

LISTS = frozenset(
    name for name in SCALARS if name.endswith(("_countries", "_nationalities", "_ids"))
)
ITEM_FIELDS = ("taxon_id", "taxon_text", "term", "unit", "quantity", "count", "value", "currency")
ITEM_FIELDS += ("source",)


class SeizureRefused(Invalid):
    """A seizure that cannot be stored as sent: a stable code and a JSON pointer into it."""

    code = "seizure-invalid"

    def __init__(self, reason: str, pointer: str, detail: str) -> None:
        super().__init__(detail, errors={pointer: [detail]}, extra={"reason": reason})
        self.reason = reason
        self.pointer = pointer


def parse(data: Any, partial: tuple[str, ...] | None = None) -> dict:
    """The wire checks (vocabularies, ranges, units for terms): the first problem, with where."""
    unknown = sorted(set(partial or ()) - set(EDITABLE))
    if unknown:
        raise SeizureRefused(
            "not-editable", f"/{unknown[0]}", f"{unknown[0]!r} is not a field of a seizure"
        )
    # Only the fields sent, each checked in full (a partial load would propagate into the
    # items and let an item without its term through).
    schema = SeizureIn(only=partial) if partial else SeizureIn()
    try:
        loaded = schema.load(data)
    except ValidationError as error:
        pointer, message = _first(error.normalized_messages(), "")
        raise SeizureRefused("invalid-field", pointer, message) from None
    return {k: v for k, v in loaded.items() if partial is None or k in data}


def _first(messages: Any, pointer: str) -> tuple[str, str]:
    if isinstance(messages, dict):
        key, inner = next(iter(messages.items()))
        return _first(inner, f"{pointer}/{key}")
    if isinstance(messages, list):
        return _first(messages[0], pointer)
    return pointer or "/", str(messages)


def check(session: Session, area_id: uuid.UUID, data: dict) -> None:
    """What only the database knows: the patrol, reports and photos are this park's, the taxa
    exist and are current. Only the keys present are checked (an edit sends a few)."""
    if data.get("patrol_id"):
        found = session.scalar(
            select(Patrol.id).where(Patrol.id == data["patrol_id"], Patrol.area_id == area_id)
        )
        if found is None:
            raise SeizureRefused(
                "unknown-patrol", "/patrol_id", "no such patrol in this area (send it first)"
            )
    for name, model, what in (
        ("report_ids", Report, "report"),
        ("attachment_ids", Attachment, "photo"),
    ):
        wanted = data.get(name) or []
        if not wanted:
            continue
        known = set(
            session.scalars(select(model.id).where(model.id.in_(wanted), model.area_id == area_id))
        )
        for i, ref in enumerate(wanted):
            if ref not in known:
                raise SeizureRefused(
                    f"unknown-{what}",
                    f"/{name}/{i}",
                    f"no such {what} in this area (send it first)",
                )
    items = data.get("items") or []
    wanted = {item["taxon_id"] for item in items if item.get("taxon_id")}
    current = set(
        session.scalars(select(Taxon.id).where(Taxon.id.in_(wanted), Taxon.retired_at.is_(None)))
    )
    for i, item in enumerate(items):
        if item.get("taxon_id") and item["taxon_id"] not in current:
            raise SeizureRefused(
                "unknown-taxon",
                f"/items/{i}/taxon_id",
                "no such taxon in the list (or it was retired); name it in taxon_text instead",
            )


def store(
    session: Session,
    seizure_id: uuid.UUID,
    area_id: uuid.UUID,
    data: dict,
    *,
    seized_at: datetime,
    seized_at_device: datetime | None = None,
    device_id: uuid.UUID | None = None,
    user_id: uuid.UUID | None = None,
    clock_suspect: bool = False,
) -> Seizure:
    """Insert a checked seizure, its items and its first version."""
    seizure = Seizure(
        id=seizure_id,
        area_id=area_id,
        device_id=device_id,
        recorded_by=user_id,
        seized_at=seized_at,
        seized_at_device=seized_at_device,
        clock_suspect=clock_suspect,
        geom=from_shape(data["geometry"], srid=4326),
        version=1,
        **{name: data.get(name) for name in SCALARS},
    )
    for name in LISTS:
        if data.get(name) is None:
            setattr(seizure, name, [])
    session.add(seizure)
    session.flush()
    _write_items(session, seizure, data["items"])
    _keep_version(session, seizure, device_id=device_id, user_id=user_id)
    return seizure


def _write_items(session: Session, seizure: Seizure, items: list[dict]) -> None:
    session.execute(
        insert(SeizureItem),
        [
            {
                "seizure_id": seizure.id,
                "position": position,
                "area_id": seizure.area_id,
                "taxon_id": item.get("taxon_id"),
                "taxon_text": item.get("taxon_text"),
                "term": item["term"],
                "unit": item["unit"],
                "quantity": item["quantity"],
                "count": item.get("count"),
                "value": item.get("value"),
                "currency": item.get("currency"),
                "source": item.get("source"),
            }
            for position, item in enumerate(items, start=1)
        ],
    )


def items_of(session: Session, seizure_id: uuid.UUID) -> list[SeizureItem]:
    return list(
        session.scalars(
            select(SeizureItem)
            .where(SeizureItem.seizure_id == seizure_id)
            .order_by(SeizureItem.position)
        )
    )


def _plain(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def snapshot(session: Session, seizure: Seizure) -> dict:
    """The seizure as stored, as JSON: what a version keeps."""
    data = {name: _plain(getattr(seizure, name)) for name in SCALARS}
    data["seized_at"] = seizure.seized_at.isoformat()
    data["geometry"] = mapping(to_shape(seizure.geom))
    data["geometry"]["coordinates"] = list(data["geometry"]["coordinates"])
    data["items"] = [
        {key: _plain(getattr(item, key)) for key in ITEM_FIELDS}
        for item in items_of(session, seizure.id)
    ]
    return data


def _keep_version(
    session: Session,
    seizure: Seizure,
    *,
    device_id: uuid.UUID | None = None,
    user_id: uuid.UUID | None = None,
    edit_id: uuid.UUID | None = None,
) -> None:
    session.add(
        SeizureVersion(
            seizure_id=seizure.id,
            version=seizure.version,
            area_id=seizure.area_id,
            data=snapshot(session, seizure),
            edit_id=edit_id,
            device_id=device_id,
            user_id=user_id,
        )
    )
    session.flush()


def locked(session: Session, seizure_id: uuid.UUID) -> Seizure | None:
    return session.scalar(select(Seizure).where(Seizure.id == seizure_id).with_for_update())


def apply_changes(
    session: Session,
    seizure: Seizure,
    changes: dict,
    *,
    correct: Callable[[datetime], datetime] = lambda t: t,
    device_id: uuid.UUID | None = None,
    user_id: uuid.UUID | None = None,
    edit_id: uuid.UUID | None = None,
) -> Seizure:
    """Apply already parsed changes on the current version and keep the next version."""
    check(session, seizure.area_id, changes)
    for name, value in changes.items():
        if name == "seized_at":
            seizure.seized_at = correct(value)
        elif name == "geometry":
            seizure.geom = from_shape(value, srid=4326)
        elif name == "items":
            session.execute(delete(SeizureItem).where(SeizureItem.seizure_id == seizure.id))
            _write_items(session, seizure, value)
        else:
            setattr(seizure, name, [] if value is None and name in LISTS else value)
    seizure.version += 1
    seizure.updated_at = utcnow()
    session.flush()
    _keep_version(session, seizure, device_id=device_id, user_id=user_id, edit_id=edit_id)
    return seizure


# --- managers ------------------------------------------------------------------------------


def create_seizure(
    session: Session, actor: Actor, area: str | uuid.UUID, data: dict, seizure_id=None
) -> Seizure:
    """A manager files a seizure. The form makes its id, so a request sent twice stores one
    seizure: the second answer is 409 already-exists, naming the stored version."""
    area_id = area_id_of(session, actor, area)
    authorize(actor, Action.SEIZURE_MANAGE, area_id, "area")
    seizure_id = seizure_id or uuid.uuid4()
    existing = session.get(Seizure, seizure_id)
    if existing is not None:
        raise AlreadyExists(
            "a seizure with this id is already stored",
            extra={"current_version": existing.version if existing.area_id == area_id else None},
        )
    _not_in_future(data)
    check(session, area_id, data)
    return store(
        session,
        seizure_id,
        area_id,
        data,
        seized_at=data["seized_at"],
        user_id=actor.user_id,
    )


def _not_in_future(data: dict) -> None:
    if data.get("seized_at") and data["seized_at"] > utcnow() + timedelta(minutes=5):
        raise SeizureRefused("time-in-future", "/seized_at", "a seizure cannot be in the future")


def get_seizure(session: Session, actor: Actor, seizure_id: uuid.UUID) -> Seizure:
    seizure = session.get(Seizure, seizure_id)
    if seizure is None:
        raise NotFound("no such seizure")
    authorize(actor, Action.SEIZURE_VIEW, seizure.area_id, "seizure")
    return seizure


def change_seizure(
    session: Session, actor: Actor, seizure_id: uuid.UUID, base_version: int, changes: dict
) -> Seizure:
    """A manager's change (resolving an unidentified taxon, say), on the version they saw."""
    get_seizure(session, actor, seizure_id)
    seizure = locked(session, seizure_id)
    authorize(actor, Action.SEIZURE_MANAGE, seizure.area_id, "seizure")
    parsed = parse(changes, tuple(changes))
    _not_in_future(parsed)
    if base_version != seizure.version:
        raise Conflict(
            f"made on version {base_version}, the seizure is at version {seizure.version}",
            extra={"current_version": seizure.version},
        )
    return apply_changes(session, seizure, parsed, user_id=actor.user_id)


def list_seizures(
    session: Session,
    actor: Actor,
    area: str | uuid.UUID,
    year: int | None = None,
    taxon_id: uuid.UUID | None = None,
    term: str | None = None,
    limit: int = 200,
) -> list[Seizure]:
    area_id = area_id_of(session, actor, area)
    authorize(actor, Action.SEIZURE_VIEW, area_id, "area")
    query = select(Seizure).where(Seizure.area_id == area_id)
    if year is not None:  # the park's local year, as in the CITES report
        zone = select(Area.timezone).where(Area.id == area_id).scalar_subquery()
        query = query.where(extract("year", func.timezone(zone, Seizure.seized_at)) == year)
    if taxon_id is not None or term is not None:
        items = select(SeizureItem.seizure_id).where(SeizureItem.area_id == area_id)
        if taxon_id is not None:
            items = items.where(SeizureItem.taxon_id == taxon_id)
        if term is not None:
            items = items.where(SeizureItem.term == term)
        query = query.where(Seizure.id.in_(items))
    return list(session.scalars(query.order_by(Seizure.seized_at.desc()).limit(limit)))


def versions(session: Session, actor: Actor, seizure_id: uuid.UUID) -> list[SeizureVersion]:
    get_seizure(session, actor, seizure_id)
    return list(
        session.scalars(
            select(SeizureVersion)
            .where(SeizureVersion.seizure_id == seizure_id)
            .order_by(SeizureVersion.version)
        )
    )


def describe(session: Session, seizure: Seizure) -> dict:
    """The seizure as the API and the dashboard show it: its items with their taxa named."""
    rows = session.execute(
        select(SeizureItem, Taxon.scientific_name, Taxon.cites_appendix)
        .outerjoin(Taxon, Taxon.id == SeizureItem.taxon_id)
        .where(SeizureItem.seizure_id == seizure.id)
        .order_by(SeizureItem.position)
    ).all()
    view = {c.key: getattr(seizure, c.key) for c in Seizure.__table__.columns if c.key != "geom"}
    view["geometry"] = mapping(to_shape(seizure.geom))
    view["items"] = [
        {key: getattr(item, key) for key in ("position", *ITEM_FIELDS)}
        | {
            "scientific_name": name,
            "cites_appendix": appendix,
            "term_label": TERMS[item.term][0],
        }
        for item, name, appendix in rows
    ]
    return view
