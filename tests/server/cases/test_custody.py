"""Custody and cases through the services and the dashboard, in the test's own transaction:
numbering, the two signatures of a handover, flags that are shown and never hidden, a closed
case needing its outcome, and the pages managers get (no suspect's name on any of them)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from server.accounts.service import actor_for
from server.cases import custody, lab, service
from server.core.errors import Conflict, Forbidden, Invalid
from server.core.policy import SYSTEM
from server.seizures import service as seizures
from tests import factories
from tests.server.analytics.helpers import sign_in
from tests.server.seizures.helpers import seizure_data, taxa, tusks

T = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
NAME = "Neema Mtuhumiwa"


@pytest.fixture
def park(db):
    area = factories.area(db)
    names = taxa(db)
    people = {
        role: factories.user(db, area.id, role)
        for role in ("ranger", "investigator", "manager", "partner", "admin")
    }
    people["ranger2"] = factories.user(db, area.id, "ranger")
    actors = {k: actor_for(db, u) for k, u in people.items()}
    stored = []
    for place in ("Dam", "Road"):
        data = seizures.parse(seizure_data([tusks(names["Loxodonta africana"])], place_name=place))
        seizures.check(db, area.id, data)
        seizure_id = uuid.uuid4()
        seizures.store(db, seizure_id, area.id, data, seized_at=data["seized_at"])
        stored.append(seizure_id)
    db.flush()
    return {"area": area, "people": people, "actors": actors, "seizures": stored}


def _tusks(db, park, **more):
    return custody.create_item(
        db,
        park["actors"]["ranger"],
        park["area"].id,
        kind="physical",
        description="Two tusks",
        seizure_id=park["seizures"][0],
        seal_number="S-1",
        at=T,
        **more,
    )


def test_items_are_numbered_in_sequence_per_park(db, park):
    first, second = _tusks(db, park), _tusks(db, park)
    slug = park["area"].slug.upper()
    assert first.number == f"{slug}-E-{datetime.now(UTC).year}-0001"
    assert second.number.endswith("-0002")


def test_a_handover_enters_the_log_only_when_the_giver_acknowledges(db, park):
    item = _tusks(db, park)
    a = park["actors"]
    handover = custody.propose_handover(db, a["investigator"], item.id, {"seal_number": "S-1"})
    assert [e["body"]["kind"] for e in custody.describe(db, item).entries] == ["intake"]
    with pytest.raises(Forbidden):
        custody.acknowledge_handover(db, a["investigator"], handover.id)
    with pytest.raises(Forbidden):  # another ranger cannot sign for the holder either
        custody.acknowledge_handover(db, a["ranger2"], handover.id)
    entry = custody.acknowledge_handover(db, a["ranger"], handover.id)
    with pytest.raises(Conflict):
        custody.acknowledge_handover(db, a["ranger"], handover.id)
    view = custody.describe(db, item)
    assert view.holder == f"user {park['people']['investigator'].username}"
    assert entry.prev_hash.hex() == view.entries[0]["hash"] and not view.flags
    audited = db.execute(
        text("SELECT details->>'hash' FROM audit_log WHERE id = :id"), {"id": entry.audit_id}
    ).scalar_one()
    assert audited == entry.hash.hex()


def test_a_broken_seal_and_a_gap_are_flagged(db, park):
    item = _tusks(db, park)
    a = park["actors"]
    custody.send_outside(
        db, a["ranger"], item.id, "Lab", "L-1", {"at": T + timedelta(days=1), "seal_number": "S-2"}
    )
    # it comes back to someone, but from a courier the log never gave it to
    custody.receive_from_outside(
        db, a["ranger2"], item.id, "Courier", "C-9", {"at": T + timedelta(days=2)}
    )
    flags = {(f.seq, f.kind) for f in custody.describe(db, item).flags}
    assert flags == {(2, "seal"), (3, "gap")}


def test_a_correction_is_a_new_entry_and_the_old_one_stays(db, park):
    item = _tusks(db, park)
    custody.correct(db, park["actors"]["ranger"], item.id, 1, "the seal was S-11, not S-1")
    entries = custody.describe(db, item).entries
    assert [e["body"]["kind"] for e in entries] == ["intake", "correction"]
    assert entries[0]["body"]["seal_number"] == "S-1" and entries[1]["body"]["corrects"] == 1
    with pytest.raises(Invalid):
        custody.correct(db, park["actors"]["ranger"], item.id, 9, "no such entry")


def test_partners_cannot_record_custody_and_managers_cannot_run_cases(db, park):
    a = park["actors"]
    with pytest.raises(Forbidden):
        custody.create_item(
            db,
            a["partner"],
            park["area"].id,
            kind="physical",
            description="x",
            seizure_id=park["seizures"][0],
        )
    with pytest.raises(Forbidden):
        service.open_case(db, a["manager"], park["area"].id, "mine")


def test_a_case_closes_only_with_its_outcome(db, park):
    case = service.open_case(
        db, park["actors"]["investigator"], park["area"].id, "t", seizure_ids=park["seizures"]
    )
    with pytest.raises(Invalid):
        service.update_case(db, park["actors"]["investigator"], case.id, {"status": "closed"})
    closed = service.update_case(
        db, park["actors"]["investigator"], case.id, {"status": "closed", "outcome": "acquitted"}
    )
    assert closed.case.closed_at is not None
    with pytest.raises(Conflict):
        service.update_case(db, park["actors"]["investigator"], case.id, {"title": "again"})


@pytest.fixture
def court(db, park, app):
    a = park["actors"]
    item = _tusks(db, park)
    sample = custody.take_sample(db, a["investigator"], item.id, analysis="dna", description="s")
    lab.record_result(
        db,
        a["investigator"],
        sample.id,
        lab="Lab",
        lab_reference="L-1",
        summary="match",
        reported_at=T,
        matched_seizure_id=park["seizures"][1],
    )
    case = service.open_case(
        db, a["investigator"], park["area"].id, "Dam ivory", seizure_ids=[park["seizures"][0]]
    )
    sealer = app.extensions["rangersync.cases"].sealer
    service.add_suspect(db, a["investigator"], sealer, case.id, {"name": NAME})
    db.commit()
    return {"item": item, "sample": sample, "case": case}


def test_managers_dashboard_shows_cases_items_labels_and_links_without_names(client, park, court):
    sign_in(client, park["people"]["manager"])
    slug = park["area"].slug
    pages = {
        "cases": f"/areas/{slug}/cases",
        "case": f"/areas/{slug}/cases/{court['case'].id}",
        "item": f"/areas/{slug}/evidence/{court['item'].id}",
        "label": f"/areas/{slug}/evidence/{court['item'].id}/label",
        "seizure": f"/areas/{slug}/seizures/{park['seizures'][1]}",
    }
    html = {}
    for key, path in pages.items():
        answer = client.get(path)
        assert answer.status_code == 200, (key, answer.get_data(as_text=True)[:500])
        html[key] = answer.get_data(as_text=True)
        assert NAME not in html[key]
    assert court["case"].number in html["cases"] and court["item"].number in html["cases"]
    assert "Suspects</dt><dd>1" in html["case"] and 'id="package"' not in html["case"]
    assert "intake" in html["item"]
    assert "<svg" in html["label"] and court["item"].number in html["label"]
    assert court["sample"].number in html["seizure"]  # the match, seen from the other seizure


def test_an_admin_gets_the_package_link(client, park, court):
    sign_in(client, park["people"]["admin"])
    html = client.get(f"/areas/{park['area'].slug}/cases/{court['case'].id}").get_data(as_text=True)
    assert 'id="package"' in html


def test_system_builds_numbers_too(db, park):
    assert _tusks(db, park).created_by == park["people"]["ranger"].id
    with pytest.raises(Forbidden):  # custody is signed by a person, not by the system
        custody.create_item(
            db,
            SYSTEM,
            park["area"].id,
            kind="physical",
            description="x",
            seizure_id=park["seizures"][0],
        )


def test_only_the_holder_hands_an_item_over(db, park):
    item = _tusks(db, park)
    a = park["actors"]
    with pytest.raises(Conflict):
        custody.send_outside(db, a["ranger2"], item.id, "Lab", "L-2", {})
    first = custody.propose_handover(db, a["investigator"], item.id, {})
    second = custody.propose_handover(db, a["ranger2"], item.id, {})
    custody.acknowledge_handover(db, a["ranger"], second.id)
    with pytest.raises(Conflict):  # the ranger no longer holds it: that handover is stale
        custody.acknowledge_handover(db, a["ranger"], first.id)


def test_corrections_do_not_lose_who_holds_the_item(db, park):
    item = _tusks(db, park)
    ranger = park["actors"]["ranger"]
    custody.correct(db, ranger, item.id, 1, "first note")
    custody.correct(db, ranger, item.id, 1, "second note")
    view = custody.describe(db, item)
    assert view.holder == f"user {park['people']['ranger'].username}" and not view.flags
    assert view.entries[2]["body"]["to"] == {"user": park["people"]["ranger"].username}
