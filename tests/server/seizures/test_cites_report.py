"""The CITES annual illegal trade report for a fixture year, compared cell by cell with files
written by hand from the format (tests/seizures/expected/), as CSV and as XLSX."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from shapely.geometry import MultiPolygon, box

from server.areas.service import create_area
from server.cli import main
from server.core.policy import SYSTEM
from server.seizures import cites, service
from tests import factories
from tests.server.seizures import helpers as s

EXPECTED = Path(__file__).parent / "expected"


def _expected(name: str) -> list[list[str]]:
    return list(csv.reader(EXPECTED.joinpath(name).read_text(encoding="utf-8").splitlines()))


def _file(db, area_slug: str, when: str, items: list[dict], **data) -> None:
    body = s.seizure_data(items, seized_at=when, **data)
    service.create_seizure(db, SYSTEM, area_slug, service.parse(body))


def fixture_year(db) -> None:
    """Two parks of Tanzania. Times are given with the parks' offset (+03:00) or in UTC to
    check that the year is the park's local year."""
    taxa = s.taxa(db)
    for slug, name, west in (
        ("mweusi", "Mto Mweusi National Park", 37.0),
        ("kaskazini", "Kaskazini Forest Reserve", 36.0),
    ):
        create_area(
            db,
            SYSTEM,
            slug=slug,
            name=name,
            boundary=MultiPolygon([box(west, -3.5, west + 0.3, -3.3)]),
            timezone="Africa/Dar_es_Salaam",
        )
        cites.set_party(db, SYSTEM, slug, "TZ", "Wildlife Division")
    common = {
        "agency": "Mweusi Park Rangers",
        "transit_countries": [],
        "offender_nationalities": [],
    }
    # Local 1 January 2025, 00:30 (31 December 2024 in UTC): in 2025, incomplete.
    _file(
        db,
        "mweusi",
        "2024-12-31T21:30:00+00:00",
        [
            {
                "taxon_text": "unidentified bushmeat",
                "term": "MEA",
                "unit": "kg",
                "quantity": 30,
                "value": 150000,
                "currency": "TZS",
            }
        ],
        **common
        | {
            "reference": "MW/2025/000",
            "place_name": None,
            "detection_method": "informant",
            "reason": "illegal_hunting",
            "transport_mode": "unknown",
            "origin_countries": [],
            "destination_countries": [],
        },
    )
    _file(
        db,
        "mweusi",
        "2025-03-14T07:30:00+03:00",
        [
            s.scales(taxa["Manis tricuspis"], 12.5),
            {
                "taxon_id": taxa["Loxodonta africana"],
                "term": "TUS",
                "unit": "kg",
                "quantity": "23.40",
                "count": 2,
                "value": 30000,
                "currency": "USD",
            },
            {
                "taxon_id": taxa["Psittacus erithacus"],
                "term": "LIV",
                "unit": "NUM",
                "quantity": 14,
                "source": "W",
            },
        ],
        **common
        | {
            "reference": "MW/2025/001",
            "place_name": "Mto wa Mbu road block",
            "transport_mode": "road",
            "transit_countries": ["KE"],
            "offender_nationalities": ["TZ", "KE"],
        },
    )
    # Local 1 January 2026, 01:30 (31 December 2025 in UTC): not in 2025.
    _file(
        db, "mweusi", "2025-12-31T22:30:00+00:00", [s.tusks(taxa["Loxodonta africana"])], **common
    )
    _file(
        db, "mweusi", "2024-06-01T10:00:00+03:00", [s.tusks(taxa["Loxodonta africana"])], **common
    )
    _file(
        db,
        "kaskazini",
        "2025-06-01T10:00:00+03:00",
        [{"taxon_id": taxa["Pterocarpus erinaceus"], "term": "LOG", "unit": "m3", "quantity": 3.2}],
        agency="Kaskazini Forest Guards",
        reference=None,
        place_name="Kaskazini checkpoint",
        detection_method="checkpoint",
        reason="illegal_harvest",
        transport_mode="road",
        origin_countries=["TZ"],
        transit_countries=[],
        destination_countries=["CN"],
    )
    db.commit()


def _xlsx_cells(data: bytes, sheet: str = "Seizure data") -> list[list[str]]:
    rows = load_workbook(io.BytesIO(data))[sheet].iter_rows(values_only=True)
    return [[_as_text(v) for v in row] for row in rows]


def _as_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def test_area_report_matches_the_hand_made_file_cell_by_cell(db):
    fixture_year(db)
    report = cites.build(db, SYSTEM, 2025, area="mweusi")
    expected = _expected("cites_2025_mweusi.csv")
    csv_bytes = cites.to_csv(report)
    assert csv_bytes.startswith(b"\xef\xbb\xbf")
    assert list(csv.reader(csv_bytes.decode("utf-8-sig").splitlines())) == expected
    produced = _xlsx_cells(cites.to_xlsx(report))
    assert len(produced) == len(expected)
    for r, (got, want) in enumerate(zip(produced, expected, strict=True), start=1):
        for c, (g, w) in enumerate(zip(got, want, strict=True)):
            assert g == w, f"row {r}, column {cites.COLUMNS[c]!r}: {g!r} != {w!r}"
    assert (report.seizures, len(report.rows), report.incomplete) == (2, 4, 1)


def test_xlsx_marks_missing_cells_and_says_who_reports(db):
    fixture_year(db)
    book = load_workbook(io.BytesIO(cites.to_xlsx(cites.build(db, SYSTEM, 2025, area="mweusi"))))
    sheet = book["Seizure data"]
    yellow = {
        sheet.cell(1, c).value
        for c in range(1, len(cites.COLUMNS) + 1)
        if sheet.cell(2, c).fill.start_color.rgb == "00FFFF00"
    }
    assert yellow == {
        "Species (scientific name)",
        "Mode of transport",
        "Country of origin",
        "Country of destination",
    }
    assert not any(sheet.cell(3, c).fill.fill_type for c in range(1, len(cites.COLUMNS) + 1))
    general = {row[0]: row[1] for row in book["General information"].iter_rows(values_only=True)}
    assert (
        general["Party"] == "TZ"
        and general["Period covered"] == "1 January 2025 to 31 December 2025"
    )
    assert general["Rows lacking required data"] == "1"
    assert sheet.cell(2, 2).number_format == "yyyy-mm-dd"


def test_cites_report_command_for_an_area_and_for_the_country(
    committed_db, fresh_engine, monkeypatch, tmp_path
):
    fixture_year(committed_db)
    monkeypatch.setenv("DATABASE_URL", fresh_engine.url.render_as_string(hide_password=False))
    runner = CliRunner()
    out = tmp_path / "mweusi.csv"
    answer = runner.invoke(
        main,
        [
            "cites",
            "report",
            "--area",
            "mweusi",
            "--year",
            "2025",
            "--format",
            "csv",
            "--output",
            str(out),
        ],
    )
    assert answer.exit_code == 0, answer.output
    assert "2 seizures, 4 rows, 1 lacking required data" in answer.output
    assert "seizure 1 (2025-01-01): missing Species (scientific name)" in answer.output
    assert list(csv.reader(out.read_text(encoding="utf-8-sig").splitlines())) == _expected(
        "cites_2025_mweusi.csv"
    )
    national = tmp_path / "tz.xlsx"
    answer = runner.invoke(
        main,
        [
            "cites",
            "report",
            "--country",
            "TZ",
            "--year",
            "2025",
            "--format",
            "xlsx",
            "--output",
            str(national),
        ],
    )
    assert answer.exit_code == 0, answer.output
    assert (
        _xlsx_cells(national.read_bytes())
        == _expected("cites_2025_mweusi.csv") + _expected("cites_2025_TZ_extra.csv")[1:]
    )
    answer = runner.invoke(
        main, ["cites", "report", "--country", "KE", "--year", "2025", "--output", str(national)]
    )
    assert answer.exit_code == 1 and "no area reports for 'KE'" in answer.output
    answer = runner.invoke(
        main,
        [
            "cites",
            "report",
            "--area",
            "mweusi",
            "--country",
            "TZ",
            "--year",
            "2025",
            "--output",
            str(national),
        ],
    )
    assert answer.exit_code == 1 and "either an area or a country" in answer.output


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_managers_download_the_report_and_partners_cannot(client, db, fmt):
    fixture_year(db)
    from server.areas.service import area_id_of

    area_id = area_id_of(db, SYSTEM, "mweusi")
    manager = factories.user(db, area_id, "manager")
    partner = factories.user(db, area_id, "partner")
    db.commit()
    url = f"/api/v1/areas/mweusi/cites-report?year=2025&format={fmt}"
    answer = client.get(url, headers=factories.auth(factories.token(client, manager.username)))
    assert answer.status_code == 200 and answer.headers["X-Rows-Lacking-Data"] == "1"
    assert f"cites-illegal-trade-mweusi-2025.{fmt}" in answer.headers["Content-Disposition"]
    cells = (
        _xlsx_cells(answer.data)
        if fmt == "xlsx"
        else list(csv.reader(answer.data.decode("utf-8-sig").splitlines()))
    )
    assert cells == _expected("cites_2025_mweusi.csv")
    refused = client.get(url, headers=factories.auth(factories.token(client, partner.username)))
    assert refused.status_code == 403


def test_demo_park_has_seizures_and_a_complete_report(db):
    from server.demo.seed import seed

    now = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    assert seed(db, now=now)
    report = cites.build(db, SYSTEM, 2026, area="demo")
    assert (report.seizures, len(report.rows), report.incomplete) == (4, 5, 0)
    assert report.party == "TZ"
    assert {row.cells[4] for row in report.rows} >= {"Manis tricuspis", "Loxodonta africana"}
