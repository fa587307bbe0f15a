"""The dashboard's seizure pages as the server renders them: times in the park's zone, named."""

from __future__ import annotations

from server.areas.service import area_id_of
from server.core.policy import SYSTEM
from server.seizures import service
from tests import factories
from tests.server.analytics.helpers import sign_in
from tests.server.seizures import helpers as s
from tests.server.seizures.test_cites_report import fixture_year


def test_seizure_list_and_page_show_items_trends_and_local_times(client, db):
    fixture_year(db)
    area_id = area_id_of(db, SYSTEM, "mweusi")
    manager = factories.user(db, area_id, "manager")
    ranger = factories.user(db, area_id, "ranger")
    db.commit()
    sign_in(client, manager)
    listing = client.get("/areas/mweusi/seizures?year=2025").get_data(as_text=True)
    # 2025-03-14T07:30+03:00 in the park's own zone, named.
    assert 'title="Africa/Dar_es_Salaam">Mar 14, 2025, 7:30\u202fAM EAT</time>' in listing
    assert "12.5 kg scales of <em>Manis tricuspis</em>" in listing
    assert "cites-report?year=2025&amp;format=xlsx" in listing
    assert "<td>2025-03</td><td>1</td><td>3</td>" in listing  # the month trend
    first = service.list_seizures(db, SYSTEM, "mweusi", year=2025)[-1]
    page = client.get(f"/areas/mweusi/seizures/{first.id}").get_data(as_text=True)
    assert 'title="Africa/Dar_es_Salaam">Jan 1, 2025, 12:30\u202fAM EAT</time>' in page
    assert "unidentified bushmeat</em> (unresolved)" in page
    assert client.get("/areas/mweusi/seizures?year=1900").status_code == 422
    client.post("/logout")
    sign_in(client, ranger)
    assert client.get("/areas/mweusi/seizures?year=2025").status_code == 403


def test_a_seizure_of_another_park_is_not_found_on_this_parks_page(client, db):
    fixture_year(db)
    taxa = s.taxa(db)
    theirs = service.create_seizure(
        db,
        SYSTEM,
        "kaskazini",
        service.parse(s.seizure_data([s.tusks(taxa["Loxodonta africana"])])),
    )
    manager = factories.user(db, area_id_of(db, SYSTEM, "mweusi"), "manager")
    db.commit()
    sign_in(client, manager)
    assert client.get(f"/areas/mweusi/seizures/{theirs.id}").status_code == 404
