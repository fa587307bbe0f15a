"""The dashboard's layer import in a real headless Chromium against a real server: a preview that
tells the truth, an import, a second import of the same file recognised by its remembered key,
and refused features listed with their reasons."""

from __future__ import annotations

import json

import pytest

from server.demo import geodata
from server.demo.seed import DEMO_PASSWORD


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.requests_seen = []
    page.on("request", lambda request: page.requests_seen.append(request.url))
    yield page
    context.close()


def gates(*numbers: int) -> bytes:
    inside = geodata.boundary().representative_point()
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [inside.x + i * 0.001, inside.y]},
            "properties": {"gate_no": n, "name": f"Gate {n}"},
        }
        for i, n in enumerate(numbers)
    ]
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def submit(page, data: bytes, button: str, key: str = "") -> str:
    page.set_input_files(
        "input[name=file]",
        {"name": "gates.geojson", "mimeType": "application/geo+json", "buffer": data},
    )
    page.fill("input[name=layer]", "gate")
    page.fill("input[name=key]", key)
    page.evaluate("document.getElementById('import-report').replaceChildren()")
    page.click(f"button[value={button}]")
    page.wait_for_selector("#import-report h3")
    return page.locator("#import-report").inner_text()


def test_a_manager_previews_and_imports_a_file_twice(page, live_server, artifacts_dir):
    page.goto("/login")
    page.fill("input[name=username]", "manager")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/dashboard")
    page.goto("/areas/demo/layers")
    assert page.locator("h1").inner_text() == "Layers"

    preview = submit(page, gates(1, 2, 3), "preview", key="gate_no")
    assert "preview, nothing changed" in preview
    assert "accepted 3 (3 created, 0 updated, 0 unchanged)" in preview
    assert "layer gate: 3 created (matched by key gate_no)" in preview
    assert "gate" not in page.locator("#layer-rows").inner_text()

    first = submit(page, gates(1, 2, 3), "import", key="gate_no")
    assert "imported" in first and "3 created" in first
    page.wait_for_selector("#layer-rows td:text-is('gate')")

    again = submit(page, gates(1, 2, 3), "import")
    assert "accepted 3 (0 created, 0 updated, 3 unchanged)" in again
    assert "matched by key gate_no, remembered from gates.geojson" in again

    twice = submit(page, gates(4, 4), "preview")
    assert "rejected 2" in twice
    assert page.locator("#import-report table.rejected tbody tr").count() == 2
    assert twice.count("duplicate-key") == 2 and "gate_no = '4' is on 2 features" in twice
    page.screenshot(path=str(artifacts_dir / "layer-import.png"), full_page=True)

    page.set_input_files(
        "input[name=file]", {"name": "x.geojson", "mimeType": "text/plain", "buffer": b"{}"}
    )
    page.fill("input[name=key]", "colour")
    page.click("button[value=preview]")
    page.wait_for_function("() => document.getElementById('import-error').textContent !== ''")
    assert [u for u in page.requests_seen if not u.startswith(live_server.url)] == []
