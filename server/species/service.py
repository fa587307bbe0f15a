"""What the species capability does: read a Species+ / CITES Checklist CSV export, load it (and
the starter list) into the taxon table in one set-based upsert, and look taxa up.

An import only touches rows whose content changed: their version goes up and their change_xid
moves, so a device's next pull brings exactly those (a delta, not the whole list again).
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import func, literal_column, or_, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from server.core.errors import Forbidden, Invalid, NotFound
from server.core.policy import Actor
from server.species.models import RANKS, Taxon

STARTER_LIST = Path(__file__).parent / "data" / "starter_taxa.csv"
# The export's column names vary between Species+ (listings download) and the Checklist; each
# of our fields accepts the names either uses.
COLUMNS = {
    "scientific_name": ("scientific name", "full name", "fullname", "taxon"),
    "rank": ("rank", "rankname", "rank name"),
    "listing": ("listing", "currentlisting", "current listing", "appendix"),
    "author": ("author", "author year", "authoryear"),
    "species_plus_id": ("id", "taxon id", "taxonid"),
    "kingdom": ("kingdom",),
    "phylum": ("phylum",),
    "class_name": ("class",),
    "order_name": ("order",),
    "family": ("family",),
    "genus": ("genus",),
    "listed_on": ("listed since", "effective at", "effective_at", "listing date"),
    "sensitive": ("sensitive",),
}
LANGUAGES = {
    "english": "en",
    "french": "fr",
    "spanish": "es",
    "swahili": "sw",
    "portuguese": "pt",
    "arabic": "ar",
    "chinese": "zh",
    "russian": "ru",
}
ROMAN = {"I": 1, "II": 2, "III": 3}
MAX_ROWS = 200_000


@dataclass(frozen=True)
class TaxonRow:
    line: int
    values: dict[str, Any]


@dataclass
class ImportResult:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    refused: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)


def _appendix(listing: str) -> str | None:
    """Species+ writes 'I', 'II', 'I/II', 'II/NC' (NC: populations not listed) …"""
    parts = {p.strip().upper() for p in re.split(r"[/,;]", listing) if p.strip()}
    parts.discard("NC")
    unknown = parts - set(ROMAN)
    if unknown:
        raise ValueError(f"listing {listing!r} is not a CITES appendix (I, II, III, I/II …)")
    return "/".join(sorted(parts, key=ROMAN.get)) or None


def _boolean(value: str) -> bool | None:
    lowered = value.strip().lower()
    if lowered in ("", "-"):
        return None
    if lowered in ("true", "yes", "1", "y"):
        return True
    if lowered in ("false", "no", "0", "n"):
        return False
    raise ValueError(f"{value!r} is not true or false")


def _lines_without_comments(stream: Iterable[str]) -> Iterable[tuple[int, str]]:
    for number, line in enumerate(stream, start=1):
        if not line.startswith("#"):
            yield number, line


def read_species_csv(stream: io.TextIOBase | Iterable[str]) -> tuple[list[TaxonRow], list]:
    """Rows of a Species+ / Checklist CSV export as taxon values, and (line, reason) for the
    rows that cannot be taxa. Lines starting with '#' are comments (the starter list names its
    sources there)."""
    numbered = list(_lines_without_comments(stream))
    reader = csv.reader(line for _, line in numbered)
    try:
        header = next(reader)
    except StopIteration:
        raise Invalid("the file is empty") from None
    names = [h.strip().lstrip("\ufeff").lower() for h in header]
    where = {
        key: next((names.index(a) for a in aliases if a in names), None)
        for key, aliases in COLUMNS.items()
    }
    if where["scientific_name"] is None or where["rank"] is None:
        raise Invalid(
            "not a Species+ or CITES Checklist export: it needs a 'Scientific Name' (or "
            "'Full name') and a 'Rank' column",
            errors={"header": [", ".join(header)]},
        )
    languages = {
        i: LANGUAGES[n.removesuffix(" names").removesuffix(" name")]
        for i, n in enumerate(names)
        if n.endswith((" names", " name")) and n.split()[0] in LANGUAGES
    }
    rows, refused, seen = [], [], set()
    for index, cells in enumerate(reader, start=1):
        line = numbered[index][0]
        if len(rows) >= MAX_ROWS:
            raise Invalid(f"more than {MAX_ROWS} rows: split the file")
        if not any(c.strip() for c in cells):
            continue
        cell = {
            key: (cells[i].strip() if i is not None and i < len(cells) else "")
            for key, i in where.items()
        }
        try:
            rows.append(TaxonRow(line, _values(cell, cells, languages, seen)))
        except ValueError as error:
            refused.append((line, str(error)))
    return rows, refused


def _values(cell: dict[str, str], cells: list[str], languages: dict, seen: set) -> dict:
    name = " ".join(cell["scientific_name"].split())
    if not name:
        raise ValueError("no scientific name")
    if name in seen:
        raise ValueError(f"{name} appears twice in the file")
    rank = cell["rank"].upper()
    if rank not in RANKS:
        raise ValueError(f"rank {cell['rank']!r} is not one of {', '.join(RANKS)}")
    names: dict[str, list[str]] = {}
    for i, language in languages.items():
        text_ = cells[i].strip() if i < len(cells) else ""
        if text_:
            names[language] = [n.strip() for n in text_.split(",") if n.strip()]
    try:
        listed_on = date.fromisoformat(cell["listed_on"]) if cell["listed_on"] else None
    except ValueError:
        raise ValueError(f"listing date {cell['listed_on']!r} is not YYYY-MM-DD") from None
    id_text = cell["species_plus_id"]
    if id_text and not id_text.isdigit():
        raise ValueError(f"Species+ id {id_text!r} is not a number")
    seen.add(name)
    return {
        "scientific_name": name,
        "rank": rank,
        "author": cell["author"] or None,
        "species_plus_id": int(id_text) if id_text else None,
        "kingdom": cell["kingdom"] or None,
        "phylum": cell["phylum"] or None,
        "class_name": cell["class_name"] or None,
        "order_name": cell["order_name"] or None,
        "family": cell["family"] or None,
        "genus": cell["genus"] or None,
        "common_names": names,
        "cites_appendix": _appendix(cell["listing"]),
        "cites_listed_on": listed_on,
        "sensitive": _boolean(cell["sensitive"]),
    }


# Columns an import may change; a row is updated (and its version raised) only if one differs.
UPDATABLE = (
    "author",
    "rank",
    "species_plus_id",
    "kingdom",
    "phylum",
    "class_name",
    "order_name",
    "family",
    "genus",
    "cites_appendix",
)


def import_taxa(
    session: Session, actor: Actor, rows: list[TaxonRow], source: str, refused=()
) -> ImportResult:
    """Upsert the rows by scientific name in set-based statements. A language's names in the
    file replace that language's names; other languages, the sensitive flag and the listing
    date are kept when the file says nothing about them. A retired taxon named again returns."""
    if not actor.is_superuser:
        raise Forbidden("only an administrator loads the taxon list (rangersync taxa import)")
    result = ImportResult(refused=list(refused))
    rows = _without_taken_ids(session, rows, result.refused)
    # Rows that say whether they are sensitive set it; the others leave it as it is.
    given = [r for r in rows if r.values["sensitive"] is not None]
    silent = [r for r in rows if r.values["sensitive"] is None]
    for group, sets_sensitive in ((given, True), (silent, False)):
        for start in range(0, len(group), 2000):
            batch = group[start : start + 2000]
            outcomes = _upsert(session, batch, source, sets_sensitive)
            result.added += sum(outcomes)
            result.updated += len(outcomes) - sum(outcomes)
            result.unchanged += len(batch) - len(outcomes)
    return result


def _without_taken_ids(session: Session, rows: list[TaxonRow], refused: list) -> list[TaxonRow]:
    """A Species+ id already held by a taxon of another name (a renamed taxon) is refused with
    its reason rather than failing the whole import on the unique constraint."""
    ids = [r.values["species_plus_id"] for r in rows if r.values["species_plus_id"] is not None]
    holders = dict(
        session.execute(
            select(Taxon.species_plus_id, Taxon.scientific_name).where(
                Taxon.species_plus_id.in_(ids)
            )
        ).all()
    )
    kept = []
    for row in rows:
        holder = holders.get(row.values["species_plus_id"])
        if holder is not None and holder != row.values["scientific_name"]:
            refused.append(
                (
                    row.line,
                    f"Species+ id {row.values['species_plus_id']} belongs to {holder} "
                    "(renamed? retire the old name first)",
                )
            )
        else:
            kept.append(row)
    refused.sort()
    return kept


def _upsert(session: Session, batch: list[TaxonRow], source: str, sets_sensitive: bool):
    """One INSERT … ON CONFLICT DO UPDATE … WHERE changed; answers True per inserted row and
    False per updated one (unchanged rows are not returned, and not touched)."""
    table = Taxon.__table__
    values = [
        r.values | {"id": uuid.uuid4(), "source": source, "sensitive": bool(r.values["sensitive"])}
        for r in batch
    ]
    statement = insert(Taxon).values(values)
    new = statement.excluded
    merged_names = table.c.common_names.op("||")(new.common_names)
    sensitive = new.sensitive if sets_sensitive else table.c.sensitive
    listed_on = func.coalesce(new.cites_listed_on, table.c.cites_listed_on)
    changed = or_(
        *(table.c[c].is_distinct_from(new[c]) for c in UPDATABLE),
        table.c.common_names.is_distinct_from(merged_names),
        table.c.sensitive.is_distinct_from(sensitive),
        table.c.cites_listed_on.is_distinct_from(listed_on),
        table.c.retired_at.is_not(None),
    )
    statement = statement.on_conflict_do_update(
        index_elements=["scientific_name"],
        set_={c: new[c] for c in UPDATABLE}
        | {
            "common_names": merged_names,
            "sensitive": sensitive,
            "cites_listed_on": listed_on,
            "source": new.source,
            "retired_at": None,
            "version": table.c.version + 1,
            "updated_at": func.now(),
        },
        where=changed,
    ).returning(literal_column("xmax = 0").label("inserted"))
    return [row.inserted for row in session.execute(statement)]


def import_file(session: Session, actor: Actor, path: Path, source: str | None = None):
    with path.open(encoding="utf-8-sig", newline="") as stream:
        rows, refused = read_species_csv(stream)
    return import_taxa(session, actor, rows, source or f"import:{path.name}", refused)


def load_starter_list(session: Session, actor: Actor) -> ImportResult:
    return import_file(session, actor, STARTER_LIST, "starter list (server/species/data)")


def search_taxa(session: Session, actor: Actor, query: str | None, limit: int = 50) -> list[Taxon]:
    """Taxa whose scientific or common name holds `query` (any signed-in person may look)."""
    statement = select(Taxon).where(Taxon.retired_at.is_(None))
    if query:
        pattern = f"%{query.strip()}%"
        statement = statement.where(
            or_(
                Taxon.scientific_name.ilike(pattern),
                text("CAST(taxa.common_names AS text) ILIKE :pattern"),
            )
        ).params(pattern=pattern)
    return list(session.scalars(statement.order_by(Taxon.scientific_name).limit(limit)))


def get_taxon(session: Session, taxon_id: uuid.UUID) -> Taxon:
    taxon = session.get(Taxon, taxon_id)
    if taxon is None:
        raise NotFound("no such taxon")
    return taxon


# A name as a ranger writes it, matched whole (case and outer spaces aside) to one taxon's
# scientific name, else to its common names in any language. A name two taxa share ("tembo" is
# not, "elephant" matches none whole) resolves to nothing rather than to a guess.
_RESOLVE = """
    WITH names AS (SELECT DISTINCT lower(btrim(n)) AS name FROM unnest(CAST(:names AS text[])) n),
    hits AS (
        SELECT names.name, t.id, 0 AS how FROM names
        JOIN taxa t ON lower(t.scientific_name) = names.name AND t.retired_at IS NULL
        UNION
        SELECT names.name, t.id, 1 FROM names
        JOIN taxa t ON t.retired_at IS NULL AND EXISTS (
            SELECT FROM jsonb_each(t.common_names) language,
                        jsonb_array_elements_text(language.value) common
            WHERE lower(btrim(common)) = names.name)),
    best AS (SELECT name, min(how) AS how FROM hits GROUP BY name)
    SELECT hits.name, min(hits.id::text)::uuid AS id FROM hits JOIN best USING (name, how)
    GROUP BY hits.name HAVING count(*) = 1"""


def resolve_names(session: Session, names: Iterable[str]) -> dict[str, Taxon]:
    """The taxon each name stands for, keyed by the name lowered and trimmed; names that match
    no taxon, or more than one equally well, are left out."""
    rows = session.execute(text(_RESOLVE), {"names": list(names)}).all()
    taxa = {
        t.id: t for t in session.scalars(select(Taxon).where(Taxon.id.in_([r.id for r in rows])))
    }
    return {r.name: taxa[r.id] for r in rows}
