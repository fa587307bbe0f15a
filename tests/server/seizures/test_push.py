"""Seizures through the device protocol: stored once, retried, conflicting, edited, resolved."""

from __future__ import annotations

from sqlalchemy import text

from tests.conftest import count_rows
from tests.server.seizures import helpers as s
from tests.server.sync import helpers as h


def _scalar(db, sql, **params):
    return db.execute(text(sql), params).scalar_one()


def test_a_seizure_is_stored_with_its_items_once_however_often_it_is_retried(client, db):
    park, taxa = h.park(db), s.taxa(db)
    record = s.seizure(
        [s.scales(taxa["Manis tricuspis"], 12.5, count=12), s.tusks(taxa["Loxodonta africana"])]
    )
    response = h.push(client, park, [record])
    assert h.verdicts(response) == ["stored"]
    assert response.get_json()["results"][0]["version"] == 1
    tables = ("seizures", "seizure_items", "seizure_versions", "sync_receipts")
    before = {t: count_rows(db, t) for t in tables}
    assert before["seizures"] == 1 and before["seizure_items"] == 2
    for _ in range(3):
        assert h.verdicts(h.push(client, park, [record])) == ["duplicate"]
    assert {t: count_rows(db, t) for t in tables} == before
    row = db.execute(
        text(
            "SELECT agency, transport_mode, origin_countries, destination_countries,"
            " ST_AsText(geom) AS wkt, device_id FROM seizures WHERE id = :id"
        ),
        {"id": record["id"]},
    ).one()
    assert row.agency == "Mweusi Park Rangers" and row.transport_mode == "on_foot"
    assert row.origin_countries == ["TZ"] and row.destination_countries == ["VN"]
    assert row.wkt == "POINT(37.12 -3.41)" and str(row.device_id) == str(park.device_id)
    items = db.execute(
        text(
            "SELECT position, term, unit, quantity, count, source FROM seizure_items"
            " WHERE seizure_id = :id ORDER BY position"
        ),
        {"id": record["id"]},
    ).all()
    assert [tuple(map(str, i)) for i in items] == [
        ("1", "SCA", "kg", "12.5", "12", "W"),
        ("2", "TUS", "NUM", "2", "None", "None"),
    ]


def test_same_id_other_content_is_a_kept_conflict_and_nothing_is_overwritten(client, db):
    park, taxa = h.park(db), s.taxa(db)
    record = s.seizure([s.scales(taxa["Manis tricuspis"], 12.5)])
    h.push(client, park, [record])
    changed = s.seizure([s.scales(taxa["Manis tricuspis"], 99)], seizure_id=record["id"])
    response = h.push(client, park, [changed])
    assert h.verdicts(response) == ["conflict"]
    assert response.get_json()["results"][0]["code"] == "content-differs"
    assert (
        _scalar(db, "SELECT quantity FROM seizure_items WHERE seizure_id = :i", i=record["id"])
        == 12.5
    )
    kept = _scalar(
        db,
        "SELECT content->'items'->0->>'quantity' FROM sync_conflicts WHERE record_id = :i",
        i=record["id"],
    )
    assert kept == "99"


def test_seizure_names_its_patrol_and_report_sent_in_the_same_push(client, db):
    park, taxa = h.park(db), s.taxa(db)
    patrol, report = h.patrol(), h.report()
    record = s.seizure(
        [s.tusks(taxa["Loxodonta africana"])],
        patrol_id=patrol["id"],
        report_ids=[report["id"]],
    )
    # Sent in the "wrong" order: the server applies patrols, then reports, then seizures.
    assert h.verdicts(h.push(client, park, [record, report, patrol])) == ["stored"] * 3
    links = db.execute(
        text("SELECT patrol_id, report_ids FROM seizures WHERE id = :i"), {"i": record["id"]}
    ).one()
    assert str(links.patrol_id) == patrol["id"] and [str(r) for r in links.report_ids] == [
        report["id"]
    ]


def test_edits_make_versions_and_a_stale_edit_is_a_kept_conflict(client, db):
    park, taxa = h.park(db), s.taxa(db)
    record = s.seizure(
        [{"taxon_text": "unidentified pangolin", "term": "SCA", "unit": "kg", "quantity": 4}]
    )
    h.push(client, park, [record])
    resolved = [s.scales(taxa["Manis gigantea"], 4)]
    first = s.edit(record["id"], 1, {"items": resolved, "notes": "identified at the lab"})
    response = h.push(client, park, [first])
    assert h.verdicts(response) == ["stored"] and response.get_json()["results"][0]["version"] == 2
    assert h.verdicts(h.push(client, park, [first])) == ["duplicate"]  # a retried edit
    stale = s.edit(record["id"], 1, {"transport_mode": "road"})
    response = h.push(client, park, [stale])
    assert h.verdicts(response) == ["conflict"]
    assert response.get_json()["results"][0]["code"] == "stale-base"
    item = db.execute(
        text("SELECT taxon_id, taxon_text FROM seizure_items WHERE seizure_id = :i"),
        {"i": record["id"]},
    ).one()
    assert str(item.taxon_id) == taxa["Manis gigantea"] and item.taxon_text is None
    history = db.execute(
        text(
            "SELECT version, data->'items'->0->>'taxon_text' AS text, data->>'notes' AS notes"
            " FROM seizure_versions WHERE seizure_id = :i ORDER BY version"
        ),
        {"i": record["id"]},
    ).all()
    assert [tuple(r) for r in history] == [
        (1, "unidentified pangolin", None),
        (2, None, "identified at the lab"),
    ]
    assert (
        _scalar(db, "SELECT transport_mode FROM seizures WHERE id = :i", i=record["id"])
        == "on_foot"
    )
    conflict = db.execute(
        text("SELECT kind, base_version, current_version FROM sync_conflicts WHERE record_id = :i"),
        {"i": record["id"]},
    ).one()
    assert tuple(conflict) == ("seizure", 1, 2)


def test_an_edit_is_checked_like_a_new_seizure(client, db):
    park, taxa = h.park(db), s.taxa(db)
    record = s.seizure([s.scales(taxa["Manis tricuspis"])])
    h.push(client, park, [record])
    bad = [
        (
            s.edit(record["id"], 1, {"destination_countries": ["VN", "QQ"]}),
            "/data/changes/destination_countries/1",
        ),
        (
            s.edit(record["id"], 1, {"items": [s.scales(taxa["Manis tricuspis"], -1)]}),
            "/data/changes/items/0/quantity",
        ),
        (s.edit(record["id"], 1, {"colour": "red"}), "/data/changes/colour"),
        (s.edit(record["id"], 1, {"items": [{"quantity": 3}]}), "/data/changes/items/0/term"),
        (s.edit(record["id"], 1, {"agency": None}), "/data/changes/agency"),
    ]
    for edit, pointer in bad:
        response = h.push(client, park, [edit])
        result = response.get_json()["results"][0]
        assert result["verdict"] == "rejected" and result["pointer"] == pointer, result
    assert _scalar(db, "SELECT version FROM seizures WHERE id = :i", i=record["id"]) == 1
