"""The standard report categories every RangerSync install starts with, and their loader.

Each category has an attribute schema (a JSON Schema subset: object, properties, required, enum,
type, minimum, maximum, items) that the sync engine checks reports against. `sensitive` categories
are never shown to partners (a carcass or a rhino sighting tells a poacher where to go); `hostile`
ones feed the safety rules (a gunshot near a patrol warns it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from server.reports.models import ReportCategory, ReportCategoryVersion


def _enum(*values: str) -> dict[str, Any]:
    return {"type": "string", "enum": list(values)}


def _count(minimum: int = 0) -> dict[str, Any]:
    return {"type": "integer", "minimum": minimum}


def _text(max_length: int = 500) -> dict[str, Any]:
    return {"type": "string", "maxLength": max_length}


def _schema(required: tuple[str, ...] = (), **properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(required),
        "additionalProperties": False,
    }


SEX = _enum("male", "female", "unknown")
ACTION_TAKEN = _enum("removed", "destroyed", "left_for_surveillance", "none")


@dataclass(frozen=True)
class CategorySpec:
    key: str
    label: str
    schema: dict[str, Any] = field(default_factory=lambda: _schema())
    geometry_kind: str = "point"
    hostile: bool = False
    sensitive: bool = True


STANDARD_CATEGORIES: tuple[CategorySpec, ...] = (
    CategorySpec("poaching", "Poaching"),
    CategorySpec(
        "poaching.snare",
        "Snare",
        _schema(
            ("snare_type", "count"),
            snare_type=_enum("wire", "rope", "cable", "gin_trap", "other"),
            count=_count(1),
            animal_caught=_enum("none", "alive", "dead"),
            species=_text(100),
            action_taken=ACTION_TAKEN,
        ),
    ),
    CategorySpec(
        "poaching.carcass",
        "Carcass",
        _schema(
            ("species", "cause"),
            species=_text(100),
            cause=_enum(
                "poaching_gunshot",
                "poaching_snare",
                "poaching_poison",
                "poaching_other",
                "natural",
                "human_wildlife_conflict",
                "vehicle",
                "unknown",
            ),
            sex=SEX,
            age_class=_enum("adult", "subadult", "juvenile", "unknown"),
            trophies=_enum("present", "removed", "partially_removed", "not_applicable"),
            estimated_days_dead=_count(0),
        ),
    ),
    CategorySpec(
        "poaching.poacher_sighting",
        "Poacher sighting",
        _schema(
            ("people",),
            people=_count(1),
            armed=_enum("yes", "no", "unknown"),
            weapons={
                "type": "array",
                "items": _enum("firearm", "bow", "spear", "machete", "dogs", "snares", "other"),
            },
            direction_of_travel=_text(100),
        ),
        hostile=True,
    ),
    CategorySpec(
        "poaching.poacher_camp",
        "Poacher camp",
        _schema(
            occupied=_enum("yes", "no", "recently"),
            estimated_people=_count(0),
            action_taken=ACTION_TAKEN,
        ),
        hostile=True,
    ),
    CategorySpec(
        "poaching.gunshot",
        "Gunshot heard",
        _schema(
            ("shots",),
            shots=_count(1),
            bearing_deg={"type": "number", "minimum": 0, "maximum": 360},
            estimated_distance_m={"type": "number", "minimum": 0},
        ),
        hostile=True,
    ),
    CategorySpec(
        "illegal_logging",
        "Illegal logging",
        _schema(
            ("species",),
            species=_enum("rosewood", "sandalwood", "other"),
            stumps=_count(0),
            logs=_count(0),
            volume_m3={"type": "number", "minimum": 0},
            equipment=_enum("axe", "chainsaw", "pitsaw", "other", "unknown"),
        ),
        geometry_kind="point_or_polygon",
    ),
    CategorySpec(
        "charcoal_burning",
        "Charcoal burning",
        _schema(kilns=_count(1), active=_enum("yes", "no"), bags=_count(0)),
        geometry_kind="point_or_polygon",
    ),
    CategorySpec("law_enforcement", "Law enforcement"),
    CategorySpec(
        "law_enforcement.seizure",
        "Seizure",
        _schema(
            ("items",),
            items={
                "type": "array",
                "minItems": 1,
                "items": _schema(
                    ("item", "quantity", "unit"),
                    item=_enum(
                        "ivory",
                        "rhino_horn",
                        "pangolin_scales",
                        "bushmeat",
                        "live_animal",
                        "skins",
                        "firearm",
                        "ammunition",
                        "snares",
                        "timber",
                        "charcoal",
                        "vehicle",
                        "other",
                    ),
                    quantity={"type": "number", "minimum": 0},
                    unit=_enum("kg", "pieces", "m3", "bags", "rounds"),
                    species=_text(100),
                ),
            },
            evidence_bag_ref=_text(100),
            case_reference=_text(100),
        ),
    ),
    CategorySpec(
        "law_enforcement.arrest",
        "Arrest",
        _schema(
            ("people",),
            people=_count(1),
            offence=_enum(
                "poaching", "trafficking", "illegal_entry", "logging", "grazing", "other"
            ),
            case_reference=_text(100),
            handed_to=_text(200),
        ),
    ),
    CategorySpec(
        "wildlife_sighting",
        "Wildlife sighting",
        _schema(
            ("species",),
            species=_text(100),
            count=_count(1),
            calves=_count(0),
            behaviour=_text(200),
        ),
    ),
    CategorySpec(
        "fire",
        "Fire",
        _schema(
            state=_enum("active", "controlled", "out"),
            cause=_enum("lightning", "human", "unknown"),
            area_ha={"type": "number", "minimum": 0},
        ),
        geometry_kind="point_or_polygon",
        sensitive=False,
    ),
    CategorySpec(
        "infrastructure_damage",
        "Infrastructure damage",
        _schema(
            ("asset",),
            asset=_enum(
                "fence", "road", "bridge", "water_point", "ranger_post", "signage", "other"
            ),
            description=_text(),
        ),
        sensitive=False,
    ),
    CategorySpec(
        "human_wildlife_conflict",
        "Human–wildlife conflict",
        _schema(
            ("conflict",),
            species=_text(100),
            conflict=_enum(
                "crop_raiding",
                "livestock_predation",
                "property_damage",
                "human_injury",
                "human_death",
            ),
            people_affected=_count(0),
        ),
    ),
)


def load_standard_categories(session: Session) -> int:
    """Insert the standard categories that are missing (by key); returns how many were added."""
    added = 0
    for spec in STANDARD_CATEGORIES:
        parent_key = spec.key.rpartition(".")[0]
        parent_id = (
            session.scalar(
                select(ReportCategory.id).where(
                    ReportCategory.key == parent_key, ReportCategory.area_id.is_(None)
                )
            )
            if parent_key
            else None
        )
        result = session.execute(
            insert(ReportCategory)
            .values(
                key=spec.key,
                parent_id=parent_id,
                label=spec.label,
                attribute_schema=spec.schema,
                geometry_kind=spec.geometry_kind,
                hostile=spec.hostile,
                sensitive=spec.sensitive,
            )
            .on_conflict_do_nothing(index_elements=["key"], index_where=text("area_id IS NULL"))
            .returning(ReportCategory.id)
        )
        if (category_id := result.scalar()) is not None:
            session.add(
                ReportCategoryVersion(
                    category_id=category_id,
                    version=1,
                    label=spec.label,
                    attribute_schema=spec.schema,
                    geometry_kind=spec.geometry_kind,
                )
            )
            session.flush()
            added += 1
    return added
