"""The CITES annual illegal trade report for an area or a whole country and a calendar year.

One row per seized item, in the columns of the standard format the Standing Committee approved
with its guidelines (SC71, 2019); docs/cites-illegal-trade-report.md says where each column
comes from. A row that lacks something the format requires is flagged in the last column (and
highlighted in the XLSX) rather than left as a silent blank. Dates are the park's local dates.
"""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from schemas.seizures import (
    COUNTRIES,
    DETECTION_METHODS,
    REASONS,
    TERMS,
    TRANSPORT_MODES,
    UNITS,
)
from server.areas.service import area_id_of
from server.core.db import utcnow
from server.core.errors import Forbidden, Invalid, NotFound
from server.core.policy import Action, Actor, authorize
from server.seizures.models import AreaCitesParty

COLUMNS = (
    "Seizure no.",
    "Date of seizure",
    "Seizing agency",
    "Agency reference",
    "Species (scientific name)",
    "Description of specimen (CITES term)",
    "Quantity",
    "Unit",
    "Location of seizure",
    "Detection method",
    "Reason for seizure",
    "Mode of transport",
    "Country of origin",
    "Countries of transit",
    "Country of destination",
    "Nationality of offenders",
    "Additional information",
    "Missing required data",
)
# What the format needs in every row; the others may stay empty.
REQUIRED = {
    "Date of seizure",
    "Seizing agency",
    "Species (scientific name)",
    "Description of specimen (CITES term)",
    "Quantity",
    "Unit",
    "Location of seizure",
    "Detection method",
    "Mode of transport",
    "Country of origin",
    "Country of destination",
}
MISSING_FILL = PatternFill(fill_type="solid", start_color="FFFF00", end_color="FFFF00")

ROWS_SQL = """
SELECT s.id, (s.seized_at AT TIME ZONE a.timezone)::date AS day, s.seized_at, s.agency,
       s.reference, t.scientific_name, t.cites_appendix, i.taxon_text, i.term, i.quantity,
       i.unit, i.count, i.value, i.currency, i.source, coalesce(s.place_name, a.name) AS place,
       a.name AS area_name, s.detection_method, s.reason, s.transport_mode,
       s.origin_countries, s.transit_countries, s.destination_countries,
       s.offender_nationalities
FROM seizure_items i
JOIN seizures s ON s.id = i.seizure_id
JOIN areas a ON a.id = s.area_id
LEFT JOIN taxa t ON t.id = i.taxon_id
WHERE s.area_id = ANY(:areas)
  AND s.seized_at >= (make_date(:year, 1, 1)::timestamp AT TIME ZONE a.timezone)
  AND s.seized_at < (make_date(:year + 1, 1, 1)::timestamp AT TIME ZONE a.timezone)
ORDER BY day, s.seized_at, s.id, i.position
"""


@dataclass
class ReportRow:
    cells: list
    missing: list[str]


@dataclass
class IllegalTradeReport:
    year: int
    party: str | None
    agency: str | None
    areas: list[str]
    rows: list[ReportRow] = field(default_factory=list)
    generated_at: datetime = field(default_factory=utcnow)

    @property
    def seizures(self) -> int:
        return len({row.cells[0] for row in self.rows})

    @property
    def incomplete(self) -> int:
        return sum(1 for row in self.rows if row.missing)

    def general(self) -> list[tuple[str, str]]:
        return [
            ("Party", self.party or "MISSING: set it with 'rangersync cites party'"),
            ("Period covered", f"1 January {self.year} to 31 December {self.year}"),
            ("Agency preparing the report", self.agency or "MISSING"),
            ("Areas covered", ", ".join(self.areas)),
            ("Number of seizures", str(self.seizures)),
            ("Number of rows (items seized)", str(len(self.rows))),
            ("Rows lacking required data", str(self.incomplete)),
            ("Share with ICCWC members", "to be answered by the Management Authority"),
            ("Prepared with", f"RangerSync, {self.generated_at:%Y-%m-%d %H:%M} UTC"),
        ]


def set_party(
    session: Session, actor: Actor, area: str, country: str, agency: str | None
) -> AreaCitesParty:
    """Say which CITES Party (ISO 3166-1 country) an area reports for, and who prepares it."""
    area_id = area_id_of(session, actor, area)
    authorize(actor, Action.AREA_EDIT, area_id, "area")
    if country not in COUNTRIES:
        raise Invalid(f"{country!r} is not an ISO 3166-1 alpha-2 country code")
    session.execute(
        insert(AreaCitesParty)
        .values(area_id=area_id, country=country, agency=agency)
        .on_conflict_do_update(
            index_elements=["area_id"],
            set_={"country": country, "agency": agency, "updated_at": utcnow()},
        )
    )
    return session.get(AreaCitesParty, area_id)


def scope(session: Session, actor: Actor, area: str | None, country: str | None):
    """The areas a report or a trend covers (one, or every area reporting for a country), with
    the Party and the agencies preparing its report."""
    if (area is None) == (country is None):
        raise Invalid("name either an area or a country")
    if area is not None:
        area_id = area_id_of(session, actor, area)
        authorize(actor, Action.SEIZURE_VIEW, area_id, "area")
        party = session.get(AreaCitesParty, area_id)
        return [area_id], party.country if party else None, party.agency if party else None
    rows = session.execute(
        text(
            "SELECT p.area_id, p.agency FROM area_cites_party p JOIN areas a ON a.id = p.area_id"
            " WHERE p.country = :country ORDER BY a.slug"
        ),
        {"country": country},
    ).all()
    if not rows:
        raise NotFound(f"no area reports for {country!r} (set it with 'rangersync cites party')")
    area_ids = [r.area_id for r in rows]
    for area_id in area_ids:
        if not actor.may(Action.SEIZURE_VIEW, area_id):
            raise Forbidden("the country's report needs every one of its areas' seizures")
    agencies = sorted({r.agency for r in rows if r.agency})
    return area_ids, country, "; ".join(agencies) or None


def build(
    session: Session,
    actor: Actor,
    year: int,
    area: str | None = None,
    country: str | None = None,
) -> IllegalTradeReport:
    area_ids, party, agency = scope(session, actor, area, country)
    names = session.execute(
        text("SELECT name FROM areas WHERE id = ANY(:ids) ORDER BY slug"), {"ids": area_ids}
    ).scalars()
    report = IllegalTradeReport(year, party, agency, list(names))
    numbers: dict[uuid.UUID, int] = {}
    for r in session.execute(text(ROWS_SQL), {"areas": area_ids, "year": year}):
        number = numbers.setdefault(r.id, len(numbers) + 1)
        report.rows.append(_row(number, r))
    return report


def _countries(codes: list[str]) -> str:
    return "; ".join(codes)


def _quantity(value: Decimal) -> Decimal:
    normal = value.normalize()
    return normal.quantize(Decimal(1)) if normal == normal.to_integral() else normal


def _row(number: int, r) -> ReportRow:
    extra = []
    if r.cites_appendix:
        extra.append(f"CITES Appendix {r.cites_appendix}")
    if r.taxon_text:
        extra.append(f"described as: {r.taxon_text}")
    if r.count is not None:
        extra.append(f"{r.count} pieces")
    if r.value is not None:
        extra.append(f"estimated value {_quantity(r.value)} {r.currency}")
    if r.source:
        extra.append(f"source {r.source}")
    cells = {
        "Seizure no.": number,
        "Date of seizure": r.day,
        "Seizing agency": r.agency,
        "Agency reference": r.reference or "",
        "Species (scientific name)": r.scientific_name or "",
        "Description of specimen (CITES term)": r.term,
        "Quantity": _quantity(r.quantity),
        "Unit": UNITS[r.unit] if r.unit == "NUM" else r.unit,
        "Location of seizure": r.place,
        "Detection method": DETECTION_METHODS[r.detection_method],
        "Reason for seizure": REASONS.get(r.reason, "") if r.reason else "",
        "Mode of transport": ""
        if r.transport_mode == "unknown"
        else TRANSPORT_MODES[r.transport_mode],
        "Country of origin": _countries(r.origin_countries),
        "Countries of transit": _countries(r.transit_countries),
        "Country of destination": _countries(r.destination_countries),
        "Nationality of offenders": _countries(r.offender_nationalities),
        "Additional information": "; ".join(extra),
    }
    missing = [name for name in COLUMNS if name in REQUIRED and cells[name] in ("", None)]
    cells["Missing required data"] = ", ".join(missing)
    return ReportRow([cells[name] for name in COLUMNS], missing)


def _text(value) -> str:
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def to_csv(report: IllegalTradeReport) -> bytes:
    """UTF-8 with a byte order mark, so that a spreadsheet opens accents correctly."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in report.rows:
        writer.writerow([_text(v) for v in row.cells])
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(report: IllegalTradeReport) -> bytes:
    book = Workbook()
    seizures = book.active
    seizures.title = "Seizure data"
    seizures.append(list(COLUMNS))
    for cell in seizures[1]:
        cell.font = Font(bold=True)
    for row in report.rows:
        seizures.append(row.cells)
        excel_row = seizures.max_row
        seizures.cell(excel_row, COLUMNS.index("Date of seizure") + 1).number_format = "yyyy-mm-dd"
        for name in row.missing:
            seizures.cell(excel_row, COLUMNS.index(name) + 1).fill = MISSING_FILL
    seizures.freeze_panes = "A2"
    for i, name in enumerate(COLUMNS, start=1):
        seizures.column_dimensions[seizures.cell(1, i).column_letter].width = max(12, len(name))
    general = book.create_sheet("General information")
    general.append(["CITES annual illegal trade report", str(report.year)])
    for label, value in report.general():
        general.append([label, value])
    general.column_dimensions["A"].width = 32
    general.column_dimensions["B"].width = 60
    codes = book.create_sheet("CITES terms")
    codes.append(["Code", "Description of specimen", "Units"])
    for code, (label, units) in TERMS.items():
        codes.append([code, label, ", ".join(units)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


FORMATS = {
    "csv": (to_csv, "text/csv; charset=utf-8"),
    "xlsx": (to_xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}
