"""A park's own report categories: admins add and change them (API and `rangersync categories
import`), each change a new version delivered by the pull; a device fills in the new form after
its next pull, and a report made on the previous version is still accepted."""

from __future__ import annotations

import json

from click.testing import CliRunner
from sqlalchemy import text

from server.cli import main
from server.reports.categories import load_standard_categories
from tests import factories
from tests.server.sync import helpers as h

FENCE = {
    "key": "fence_damage",
    "label": "Fence damage",
    "attribute_schema": {
        "type": "object",
        "properties": {"length_m": {"type": "number", "minimum": 0}},
        "required": ["length_m"],
        "additionalProperties": False,
    },
}
FENCE_V2 = FENCE | {
    "attribute_schema": {
        "type": "object",
        "properties": {
            "length_m": {"type": "number", "minimum": 0},
            "cause": {"type": "string", "enum": ["elephant", "people", "fire", "unknown"]},
        },
        "required": ["length_m", "cause"],
        "additionalProperties": False,
    }
}


def _pull_categories(client, park) -> dict[str, dict]:
    changes, cursor = [], None
    while True:
        url = "/api/v1/sync/pull" + (f"?cursor={cursor}" if cursor else "")
        page = client.get(url, headers=park.headers).get_json()
        changes += page["changes"]
        cursor = page["cursor"]
        if not page["more"]:
            break
    return {c["data"]["key"]: c["data"] for c in changes if c["kind"] == "category"}


def test_a_new_category_is_used_after_the_next_pull_and_old_reports_stay_valid(
    committed_client, committed_db
):
    client, db = committed_client, committed_db
    park = h.park(db)
    admin = factories.user(db, park.area_id, "admin")
    db.commit()
    headers = factories.auth(factories.token(client, admin.username))
    put = client.put(f"/api/v1/areas/{park.slug}/categories", json=[FENCE], headers=headers)
    assert put.status_code == 200, put.get_json()
    assert put.get_json() == [
        {"key": "fence_damage", "label": "Fence damage", "version": 1, "action": "added"}
    ]
    pulled = _pull_categories(client, park)
    assert pulled["fence_damage"]["version"] == 1
    assert pulled["fence_damage"]["attribute_schema"] == FENCE["attribute_schema"]

    # made on version 1 before the device pulled again; the admin then changes the form
    old = h.report(category="fence_damage", attributes={"length_m": 40}, category_version=1)
    put = client.put(f"/api/v1/areas/{park.slug}/categories", json=[FENCE_V2], headers=headers)
    assert put.get_json()[0] | {} == {
        "key": "fence_damage",
        "label": "Fence damage",
        "version": 2,
        "action": "changed",
    }
    again = client.put(f"/api/v1/areas/{park.slug}/categories", json=[FENCE_V2], headers=headers)
    assert again.get_json()[0]["action"] == "unchanged"
    assert _pull_categories(client, park)["fence_damage"]["version"] == 2
    new = h.report(
        category="fence_damage",
        attributes={"length_m": 12.5, "cause": "elephant"},
        category_version=2,
    )
    stale_form_unsaid = h.report(category="fence_damage", attributes={"length_m": 3})
    response = h.push(client, park, [old, new, stale_form_unsaid])
    results = response.get_json()["results"]
    assert [r["verdict"] for r in results] == ["stored", "stored", "rejected"]
    assert results[2]["code"] == "invalid-attributes" and "cause" in results[2]["pointer"]
    versions = dict(
        db.execute(
            text(
                "SELECT id::text, category_version FROM reports WHERE id = ANY(CAST(:i AS uuid[]))"
            ),
            {"i": [old["id"], new["id"]]},
        ).all()
    )
    assert versions == {old["id"]: 1, new["id"]: 2}
    future = h.report(category="fence_damage", attributes={"length_m": 1}, category_version=9)
    result = h.push(client, park, [future]).get_json()["results"][0]
    assert (result["verdict"], result["code"]) == ("rejected", "unknown-category-version")


def test_another_park_neither_sees_nor_can_use_a_parks_category(committed_client, committed_db):
    client, db = committed_client, committed_db
    park, other = h.park(db), h.park(db, west=38.0)
    admin = factories.user(db, park.area_id, "admin")
    ranger_admin = factories.user(db, other.area_id, "ranger")
    db.commit()
    headers = factories.auth(factories.token(client, admin.username))
    assert (
        client.put(
            f"/api/v1/areas/{park.slug}/categories", json=[FENCE], headers=headers
        ).status_code
        == 200
    )
    assert "fence_damage" not in _pull_categories(client, other)
    result = h.push(client, other, [h.report(category="fence_damage", attributes={"length_m": 1})])
    assert result.get_json()["results"][0]["code"] == "unknown-category"
    not_admin = factories.auth(factories.token(client, ranger_admin.username))
    refused = client.put(f"/api/v1/areas/{other.slug}/categories", json=[FENCE], headers=not_admin)
    assert refused.status_code == 403


def test_a_schema_the_apps_cannot_render_and_a_standard_key_are_refused(client, db):
    park = h.park(db)
    admin = factories.user(db, park.area_id, "admin")
    db.commit()
    headers = factories.auth(factories.token(client, admin.username))
    bad = FENCE | {"attribute_schema": {"type": "object", "patternProperties": {}}}
    response = client.put(f"/api/v1/areas/{park.slug}/categories", json=[bad], headers=headers)
    assert response.status_code == 422 and "patternProperties" in response.get_json()["detail"]
    snare = FENCE | {"key": "poaching.snare"}
    response = client.put(f"/api/v1/areas/{park.slug}/categories", json=[snare], headers=headers)
    assert response.status_code == 422 and "standard category" in response.get_json()["detail"]


def test_categories_import_from_a_file(tmp_path, monkeypatch, fresh_engine, committed_db):
    load_standard_categories(committed_db)
    area = factories.area(committed_db, slug="mto")
    committed_db.commit()
    monkeypatch.setenv("DATABASE_URL", fresh_engine.url.render_as_string(hide_password=False))
    path = tmp_path / "categories.json"
    path.write_text(json.dumps([FENCE, FENCE | {"key": "fence_damage.gate", "label": "Gate"}]))
    answer = CliRunner().invoke(main, ["categories", "import", "--area", "mto", str(path)])
    assert answer.exit_code == 0, answer.output
    assert answer.output.splitlines() == [
        "fence_damage: added, version 1 (Fence damage)",
        "fence_damage.gate: added, version 1 (Gate)",
    ]
    path.write_text(json.dumps([FENCE_V2]))
    answer = CliRunner().invoke(main, ["categories", "import", "--area", "mto", str(path)])
    assert answer.output.strip() == "fence_damage: changed, version 2 (Fence damage)"
    kept = (
        committed_db.execute(
            text(
                "SELECT v.version FROM report_category_versions v JOIN report_categories c"
                " ON c.id = v.category_id WHERE c.key = 'fence_damage' AND c.area_id = :a"
                " ORDER BY v.version"
            ),
            {"a": area.id},
        )
        .scalars()
        .all()
    )
    assert kept == [1, 2]
    path.write_text('[{"key": "Bad Key", "label": "x"}]')
    answer = CliRunner().invoke(main, ["categories", "import", "--area", "mto", str(path)])
    assert answer.exit_code == 1 and "refused" in answer.output
