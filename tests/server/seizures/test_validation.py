"""Every field of a seizure is checked, and a refusal says which field and why."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from tests.conftest import count_rows
from tests.server.seizures import helpers as s
from tests.server.sync import helpers as h

PANGOLIN = "Manis tricuspis"


def _item(**changes):
    return lambda taxa: [s.scales(taxa[PANGOLIN]) | changes]


CASES = [
    # (what is wrong, how to build the items, other data, code, pointer, words in the reason)
    (
        "unit not for the term",
        _item(unit="NUM"),
        {},
        "invalid-field",
        "/data/items/0/unit",
        "not a unit for scales (SCA); use kg, g",
    ),
    (
        "unknown unit",
        _item(unit="lbs"),
        {},
        "invalid-field",
        "/data/items/0/unit",
        "not a unit of quantity",
    ),
    (
        "unknown term",
        _item(term="XYZ"),
        {},
        "invalid-field",
        "/data/items/0/term",
        "CITES specimen term",
    ),
    (
        "negative quantity",
        _item(quantity=-3),
        {},
        "invalid-field",
        "/data/items/0/quantity",
        "greater than 0",
    ),
    (
        "zero quantity",
        _item(quantity=0),
        {},
        "invalid-field",
        "/data/items/0/quantity",
        "greater than 0",
    ),
    (
        "quantity as text",
        _item(quantity="lots"),
        {},
        "invalid-field",
        "/data/items/0/quantity",
        "valid number",
    ),
    (
        "zero count",
        _item(count=0),
        {},
        "invalid-field",
        "/data/items/0/count",
        "greater than or equal to 1",
    ),
    (
        "value without currency",
        _item(value=1000),
        {},
        "invalid-field",
        "/data/items/0/currency",
        "needs its currency",
    ),
    (
        "currency without value",
        _item(currency="TZS"),
        {},
        "invalid-field",
        "/data/items/0/value",
        "needs its currency",
    ),
    (
        "unknown currency",
        _item(value=5, currency="ABC"),
        {},
        "invalid-field",
        "/data/items/0/currency",
        "ISO 4217",
    ),
    (
        "negative value",
        _item(value=-5, currency="USD"),
        {},
        "invalid-field",
        "/data/items/0/value",
        "0 or more",
    ),
    (
        "unknown source code",
        _item(source="Q"),
        {},
        "invalid-field",
        "/data/items/0/source",
        "CITES source code",
    ),
    (
        "no taxon at all",
        lambda t: [{"term": "SCA", "unit": "kg", "quantity": 1}],
        {},
        "invalid-field",
        "/data/items/0/taxon_id",
        "name the taxon",
    ),
    (
        "unknown taxon",
        _item(taxon_id=str(uuid.uuid4())),
        {},
        "unknown-taxon",
        "/data/items/0/taxon_id",
        "no such taxon",
    ),
    ("no items", lambda t: [], {}, "invalid-field", "/data/items", "Length must be between 1"),
    (
        "destination not a country",
        None,
        {"destination_countries": ["VN", "Asia"]},
        "invalid-field",
        "/data/destination_countries/1",
        "not an ISO 3166-1",
    ),
    (
        "origin in lower case",
        None,
        {"origin_countries": ["tz"]},
        "invalid-field",
        "/data/origin_countries/0",
        "not an ISO 3166-1",
    ),
    (
        "transit not a code",
        None,
        {"transit_countries": ["ZZ"]},
        "invalid-field",
        "/data/transit_countries/0",
        "not an ISO 3166-1",
    ),
    (
        "nationality not a code",
        None,
        {"offender_nationalities": ["Kenyan"]},
        "invalid-field",
        "/data/offender_nationalities/0",
        "not an ISO 3166-1",
    ),
    (
        "unknown detection method",
        None,
        {"detection_method": "magic"},
        "invalid-field",
        "/data/detection_method",
        "Must be one of",
    ),
    (
        "unknown transport mode",
        None,
        {"transport_mode": "camel"},
        "invalid-field",
        "/data/transport_mode",
        "Must be one of",
    ),
    (
        "unknown reason",
        None,
        {"reason": "bad luck"},
        "invalid-field",
        "/data/reason",
        "Must be one of",
    ),
    ("empty agency", None, {"agency": ""}, "invalid-field", "/data/agency", "Length"),
    (
        "a polygon for a place",
        None,
        {
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[37, -3], [37.1, -3], [37.1, -3.1], [37, -3]]],
            }
        },
        "invalid-field",
        "/data/geometry",
        "Point",
    ),
    (
        "a point off the globe",
        None,
        {"geometry": {"type": "Point", "coordinates": [200, -3]}},
        "invalid-field",
        "/data/geometry",
        "longitude",
    ),
    (
        "a time with no offset",
        None,
        {"seized_at": "2026-11-20T06:00:00"},
        "invalid-field",
        "/data/seized_at",
        "aware datetime",
    ),
    (
        "unknown patrol",
        None,
        {"patrol_id": str(uuid.uuid4())},
        "unknown-patrol",
        "/data/patrol_id",
        "no such patrol",
    ),
    (
        "unknown report",
        None,
        {"report_ids": [str(uuid.uuid4())]},
        "unknown-report",
        "/data/report_ids/0",
        "no such report",
    ),
    (
        "unknown photo",
        None,
        {"attachment_ids": [str(uuid.uuid4())]},
        "unknown-photo",
        "/data/attachment_ids/0",
        "no such photo",
    ),
    (
        "reference too long",
        None,
        {"reference": "x" * 101},
        "invalid-field",
        "/data/reference",
        "Longer than maximum",
    ),
]


@pytest.mark.parametrize(
    ("items", "data", "code", "pointer", "words"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_a_bad_field_is_rejected_with_its_pointer_and_reason(
    client, db, items, data, code, pointer, words
):
    park, taxa = h.park(db), s.taxa(db)
    built = items(taxa) if items else [s.scales(taxa[PANGOLIN])]
    response = h.push(client, park, [s.seizure(built, **data)])
    result = response.get_json()["results"][0]
    assert (result["verdict"], result["code"], result["pointer"]) == ("rejected", code, pointer), (
        result
    )
    assert words.lower() in result["detail"].lower(), result["detail"]
    assert count_rows(db, "seizures") == 0 and count_rows(db, "sync_quarantine") == 1


def test_a_seizure_dated_after_the_device_sent_it_is_refused(client, db):
    park, taxa = h.park(db), s.taxa(db)
    late = (h.T0 + timedelta(hours=1)).isoformat()
    response = h.push(
        client, park, [s.seizure([s.scales(taxa[PANGOLIN])], seized_at=late)], device_time=h.T0
    )
    result = response.get_json()["results"][0]
    assert (result["code"], result["pointer"]) == ("time-after-send", "/data/seized_at")


def test_every_unit_the_guidelines_give_for_a_term_is_accepted(client, db):
    park, taxa = h.park(db), s.taxa(db)
    items = [
        {"taxon_id": taxa["Loxodonta africana"], "term": "TUS", "unit": "kg", "quantity": 23.4},
        {"taxon_id": taxa["Loxodonta africana"], "term": "IVC", "unit": "NUM", "quantity": 40},
        {"taxon_id": taxa["Pterocarpus erinaceus"], "term": "LOG", "unit": "m3", "quantity": 3.2},
        {"taxon_id": taxa["Diceros bicornis"], "term": "HOR", "unit": "g", "quantity": 850},
        {
            "taxon_text": "unidentified bushmeat",
            "term": "MEA",
            "unit": "kg",
            "quantity": 30,
            "value": "120000",
            "currency": "TZS",
        },
    ]
    response = h.push(client, park, [s.seizure(items, destination_countries=["XX"])])
    assert h.verdicts(response) == ["stored"]
    assert count_rows(db, "seizure_items") == 5
