"""Seizure trends against figures counted by hand from the fixture year of the report test.

mweusi, local dates: 2024-06-01 tusks 2 NUM (TZ→VN); 2025-01-01 unidentified bushmeat MEA 30 kg
(no countries); 2025-03-14 pangolin SCA 12.5 kg + elephant TUS 23.4 kg + parrots LIV 14 NUM
(TZ→VN); 2026-01-01 tusks 2 NUM (TZ→VN). kaskazini: 2025-06-01 rosewood LOG 3.2 m3 (TZ→CN).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from shapely.geometry import Point, shape

from server.areas.service import area_id_of
from server.core.policy import SYSTEM
from server.seizures.trends import hotspots, trend
from tests import factories
from tests.server.seizures.test_cites_report import fixture_year

YEAR = {"start": date(2025, 1, 1), "end": date(2025, 12, 31)}


def _rows(db, figure, **where):
    return [tuple(r.values()) for r in trend(db, SYSTEM, figure, **where)]


def test_by_month_counts_seizures_and_items_in_local_months(db):
    fixture_year(db)
    assert _rows(db, "month", area="mweusi", **YEAR) == [("2025-01", 1, 1), ("2025-03", 1, 3)]
    assert _rows(db, "month", area="mweusi") == [
        ("2024-06", 1, 1),
        ("2025-01", 1, 1),
        ("2025-03", 1, 3),
        ("2026-01", 1, 1),
    ]
    assert _rows(db, "month", country="TZ", **YEAR) == [
        ("2025-01", 1, 1),
        ("2025-03", 1, 3),
        ("2025-06", 1, 1),
    ]


def test_by_term_sums_quantities_per_unit_only(db):
    fixture_year(db)
    assert _rows(db, "term", area="mweusi") == [
        ("TUS", "NUM", 2, 2, Decimal(4)),
        ("LIV", "NUM", 1, 1, Decimal(14)),
        ("MEA", "kg", 1, 1, Decimal(30)),
        ("SCA", "kg", 1, 1, Decimal("12.5")),
        ("TUS", "kg", 1, 1, Decimal("23.40")),
    ]


def test_by_taxon_names_unresolved_items_as_described(db):
    fixture_year(db)
    assert _rows(db, "taxon", country="TZ", **YEAR) == [
        ("Loxodonta africana", "I/II", "kg", 1, 1, Decimal("23.40")),
        ("Manis tricuspis", "I", "kg", 1, 1, Decimal("12.5")),
        ("Psittacus erithacus", "I", "NUM", 1, 1, Decimal(14)),
        ("Pterocarpus erinaceus", "II", "m3", 1, 1, Decimal("3.2")),
        ("unresolved: unidentified bushmeat", None, "kg", 1, 1, Decimal(30)),
    ]


def test_by_route_counts_each_seizure_once_per_route(db):
    fixture_year(db)
    assert _rows(db, "route", area="mweusi") == [("TZ", "VN", 3), (None, None, 1)]
    assert _rows(db, "route", country="TZ", **YEAR) == [
        ("TZ", "CN", 1),
        ("TZ", "VN", 1),
        (None, None, 1),
    ]


def test_trend_api_is_for_managers_of_the_park_only(client, db):
    fixture_year(db)
    area_id = area_id_of(db, SYSTEM, "mweusi")
    manager = factories.user(db, area_id, "manager")
    partner = factories.user(db, area_id, "partner")
    db.commit()
    url = "/api/v1/areas/mweusi/seizures/trends/term?start=2025-01-01&end=2025-12-31"
    answer = client.get(url, headers=factories.auth(factories.token(client, manager.username)))
    assert answer.status_code == 200
    assert answer.get_json()[0] == {
        "term": "LIV",
        "unit": "NUM",
        "seizures": 1,
        "items": 1,
        "quantity": "14",
    }
    partner_headers = factories.auth(factories.token(client, partner.username))
    assert client.get(url, headers=partner_headers).status_code == 403
    national = client.get(
        "/api/v1/countries/tz/seizures/trends/month",
        headers=factories.auth(factories.token(client, manager.username)),
    )
    assert national.status_code == 403  # kaskazini is not theirs
    bad = client.get(
        "/api/v1/areas/mweusi/seizures/trends/month?start=2025-02-01&end=2025-01-01",
        headers=factories.auth(factories.token(client, manager.username)),
    )
    assert bad.status_code == 422


def test_hotspots_count_seizures_per_grid_cell(client, db):
    fixture_year(db)
    cells = hotspots(db, SYSTEM, "mweusi")["features"]
    # Every mweusi seizure of the fixture was made at (37.12, -3.41): one cell, four seizures
    # (two in 2025, one each in 2024 and 2026) holding six items.
    assert len(cells) == 1 and cells[0]["properties"] == {"seizures": 4, "items": 6}
    cell = shape(cells[0]["geometry"])
    assert cell.covers(Point(37.12, -3.41)) and round(cell.area, 8) == 0.0001  # on its edge
    assert hotspots(db, SYSTEM, "mweusi", **YEAR)["features"][0]["properties"]["seizures"] == 2
    area_id = area_id_of(db, SYSTEM, "mweusi")
    partner = factories.user(db, area_id, "partner")
    db.commit()
    url = "/api/v1/areas/mweusi/seizures/hotspots"
    answer = client.get(url, headers=factories.auth(factories.token(client, partner.username)))
    assert answer.status_code == 403
