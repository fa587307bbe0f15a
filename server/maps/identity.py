"""Which stored feature an imported one is, when the file carries no RangerSync id.

Two ways, one per target layer and import:

- **By key**: a field the user names (or the one remembered from the layer's last import of the
  same source). Equal key, same feature. A key that is empty, that several features of the file
  share, or that several stored features share cannot say which feature is which: those features
  are refused, each with its reason, and nothing is guessed (a feature without its key still
  keeps what it is by content from being deleted by `replace`).
- **By content**: a feature whose geometry and attributes are those of a stored one is that one
  (unchanged). What is left on both sides is then paired where exactly one feature on each side
  fits, in this order: the same geometry (attributes edited), the same attributes if there are
  any (geometry edited), the same name, nearly the same shape (Hausdorff distance within a
  tenth of the larger one's size: a moved vertex, a redrawn boundary). A feature that still
  fits several, or fits one that several fit, is refused as ambiguous; one that fits none is
  new. Identical features in one file cannot be told apart either: the first is imported and
  each copy refused.

Normalised means: coordinates rounded to 1e-9 degrees (0.1 mm), rings and parts in a canonical
order and orientation (a Shapefile's clockwise ring equals GeoJSON's counter-clockwise one), a
one-part Multi* equal to its part; integral floats equal to integers. Nothing here touches the
database.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Hashable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from server.maps.importers import Candidate

NEARLY = 0.1  # the Hausdorff distance, as a share of the larger shape's bounding-box diagonal
DECIMALS = 9


@dataclass
class Stored:
    """A live feature of a target layer, as the database holds it."""

    id: uuid.UUID
    layer: str
    kind: str | None
    name: str | None
    properties: dict[str, Any]
    geometry: BaseGeometry


@dataclass
class Refusal:
    candidate: Candidate
    reason: str
    detail: str


@dataclass
class Matching:
    pairs: list[tuple[Candidate, Stored]] = field(default_factory=list)
    new: list[Candidate] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)
    # stored features a refused candidate may be: `replace` must not delete them
    protected: set[uuid.UUID] = field(default_factory=set)


def shape_key(geometry: BaseGeometry) -> bytes:
    rounded = shapely.transform(geometry, lambda xy: np.round(xy, DECIMALS))
    if rounded.geom_type.startswith("Multi") and len(rounded.geoms) == 1:
        rounded = rounded.geoms[0]
    return shapely.to_wkb(shapely.normalize(rounded))


def _plain(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def attributes_key(kind: str | None, name: str | None, properties: dict[str, Any]) -> str:
    return json.dumps([kind, name, _plain(properties)], sort_keys=True, default=str)


def same_content(c: Candidate, s: Stored) -> bool:
    return attributes_key(c.kind, c.name, c.properties) == attributes_key(
        s.kind, s.name, s.properties
    ) and shape_key(c.geometry) == shape_key(s.geometry)


def key_value(name: str | None, properties: dict[str, Any], key: str) -> str | None:
    """The key of a feature: its name for the file's name field (which becomes the feature's
    name), its `source_id` for a foreign `id` field, else the property itself; as text."""
    if key.lower() == "name":
        value: Any = name
    elif key == "id":
        value = properties.get("source_id")
    else:
        value = properties.get(key)
    if value is None or value == "":
        return None
    return str(_plain(value))


def match_by_key(candidates: list[Candidate], stored: list[Stored], key: str) -> Matching:
    out = Matching()
    unsure: set[str] = set()  # key values whose stored features a refused feature may be
    in_file = Counter(key_value(c.name, c.properties, key) for c in candidates)
    stored_by_key: dict[str, list[Stored]] = defaultdict(list)
    for s in stored:
        value = key_value(s.name, s.properties, key)
        if value is not None:
            stored_by_key[value].append(s)
    for c in candidates:
        value = key_value(c.name, c.properties, key)
        found = stored_by_key.get(value, []) if value is not None else []
        if value is None:
            out.refused.append(Refusal(c, "missing-key", f"the key field {key!r} is empty"))
        elif in_file[value] > 1:
            out.refused.append(
                Refusal(
                    c,
                    "duplicate-key",
                    f"{key} = {value!r} is on {in_file[value]} features of the file",
                )
            )
            unsure.add(value)
        elif len(found) > 1:
            out.refused.append(
                Refusal(
                    c,
                    "ambiguous-match",
                    f"{len(found)} features of layer {c.target_layer!r} have {key} = {value!r}",
                )
            )
            unsure.add(value)
        elif found:
            out.pairs.append((c, found[0]))
        else:
            out.new.append(c)
    for value in unsure:
        out.protected.update(s.id for s in stored_by_key.get(value, []))
    keyless = [r.candidate for r in out.refused if r.reason == "missing-key"]
    if keyless:  # what they are by content must survive `replace`
        taken = {s.id for _c, s in out.pairs} | out.protected
        fits = match_by_content(keyless, [s for s in stored if s.id not in taken])
        out.protected |= {s.id for _c, s in fits.pairs} | fits.protected
    return out


@dataclass(eq=False)
class _Side:
    """A feature on either side, with the keys the tiers compare (computed once)."""

    feature: Candidate | Stored

    @cached_property
    def shape(self) -> bytes:
        return shape_key(self.feature.geometry)

    @cached_property
    def attributes(self) -> str:
        f = self.feature
        return attributes_key(f.kind, f.name, f.properties)

    @cached_property
    def diagonal(self) -> float:
        west, south, east, north = self.feature.geometry.bounds
        return float(np.hypot(east - west, north - south))


# The tiers that pair what exact content left over: (what the detail calls it, the key).
_TIERS: list[tuple[str, Callable[[_Side], Hashable | None]]] = [
    ("the same geometry", lambda s: s.shape),
    # attributes that say nothing (no name, no properties) cannot tell features apart
    (
        "the same attributes",
        lambda s: s.attributes if s.feature.name or s.feature.properties else None,
    ),
    ("the same name", lambda s: s.feature.name),
]


def match_by_content(candidates: list[Candidate], stored: list[Stored]) -> Matching:
    out = Matching()
    first: dict[tuple[str, bytes], Candidate] = {}
    files: list[_Side] = []
    for c in candidates:
        side = _Side(c)
        known = first.setdefault((side.attributes, side.shape), c)
        if known is c:
            files.append(side)
        else:
            out.refused.append(
                Refusal(
                    c,
                    "duplicate-feature",
                    f"identical to feature #{known.index} of {known.source_layer!r}"
                    " (imported): identical features cannot be told apart",
                )
            )
    exact: dict[tuple[str, bytes], list[_Side]] = defaultdict(list)
    for s in stored:
        side = _Side(s)
        exact[(side.attributes, side.shape)].append(side)
    left: list[_Side] = []
    for side in files:
        same = exact.get((side.attributes, side.shape))
        if same:
            out.pairs.append((side.feature, same.pop(0).feature))
        else:
            left.append(side)
    rest = [s for sides in exact.values() for s in sides]
    _pair_leftovers(left, rest, out)
    return out


def _pair_leftovers(left: list[_Side], rest: list[_Side], out: Matching) -> None:
    """Pair one-to-one fits tier by tier, again while a round pairs anything (a pair made by a
    later tier can leave an earlier tier's fit unique); then refuse what still fits ambiguously."""
    paired = True
    while paired and left and rest:
        paired = False
        for _what, tier in _TIERS:
            groups = _groups(left, rest, tier).values()
            found = [(f[0], s[0]) for f, s in groups if len(f) == 1 and len(s) == 1]
            left, rest = _take(found, left, rest, out)
            paired = paired or bool(found)
        fits, fitted_by = _nearly(left, rest)
        found = [
            (side, near[0])
            for side, near in fits.items()
            if len(near) == 1 and len(fitted_by[near[0]]) == 1
        ]
        left, rest = _take(found, left, rest, out)
        paired = paired or bool(found)
    groups = [(what, _groups(left, rest, tier), tier) for what, tier in _TIERS]
    fits, fitted_by = _nearly(left, rest)
    unsure: dict[int, Collection[_Side]] = {}  # stored features refused ones may be, by group
    for side in left:
        what, files, stored = _fit(side, groups, fits, fitted_by)
        if not stored:
            out.new.append(side.feature)
            continue
        layer = side.feature.target_layer
        if len(stored) > 1:
            detail = f"{what} as {len(stored)} features of layer {layer!r} matched by nothing else"
        else:
            detail = (
                f"{what} as a feature of layer {layer!r}, like {len(files) - 1} more in the file"
            )
        out.refused.append(
            Refusal(
                side.feature,
                "ambiguous-match",
                f"{detail}: which is which cannot be told; name a key field",
            )
        )
        unsure[id(stored)] = stored
    for stored in unsure.values():
        out.protected.update(s.feature.id for s in stored)


def _fit(side: _Side, groups, fits, fitted_by) -> tuple[str, Collection, Collection]:
    """What a leftover still fits after pairing: (how, the file's features, the stored ones)."""
    for what, by_value, tier in groups:
        files, stored = by_value.get(tier(side), ((), ()))
        if stored:
            return what, files, stored
    stored = fits.get(side, [])
    return "nearly the same shape", {f for s in stored for f in fitted_by[s]}, stored


def _take(found, left, rest, out: Matching) -> tuple[list[_Side], list[_Side]]:
    if not found:
        return left, rest
    out.pairs.extend((f.feature, s.feature) for f, s in found)
    taken = {side for pair in found for side in pair}
    return [s for s in left if s not in taken], [s for s in rest if s not in taken]


def _groups(left, rest, tier) -> dict[Hashable, tuple[list[_Side], list[_Side]]]:
    groups: dict[Hashable, tuple[list[_Side], list[_Side]]] = {}
    for side in left:
        value = tier(side)
        if value is not None:
            groups.setdefault(value, ([], []))[0].append(side)
    for side in rest:
        value = tier(side)
        if value in groups:
            groups[value][1].append(side)
    return groups


def _nearly(left: list[_Side], rest: list[_Side]):
    """Pairs of nearly the same shape: overlapping bounding boxes, and a Hausdorff distance
    within NEARLY of the larger diagonal (points have none: a moved point is not 'nearly')."""
    fits: dict[_Side, list[_Side]] = {}
    fitted_by: dict[_Side, list[_Side]] = defaultdict(list)
    if not left or not rest:
        return fits, fitted_by
    tree = shapely.STRtree([s.feature.geometry for s in rest])
    for side in left:
        found = []
        for i in tree.query(side.feature.geometry.envelope):
            other = rest[int(i)]
            limit = NEARLY * max(side.diagonal, other.diagonal)
            if limit > 0 and (
                shapely.hausdorff_distance(side.feature.geometry, other.feature.geometry) <= limit
            ):
                found.append(other)
                fitted_by[other].append(side)
        fits[side] = found
    return fits, fitted_by
