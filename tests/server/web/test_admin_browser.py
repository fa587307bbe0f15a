"""An area admin in a real Chromium over real HTTP: adds a person, changes their role, enrols a
handheld for them with the QR code's code (the handheld enrols through the real API), revokes
it, and disables the person; each step is what the server then holds."""

from __future__ import annotations

import uuid

from server.demo.geodata import AREA_SLUG
from server.demo.seed import DEMO_PASSWORD


def test_an_admin_manages_people_and_devices(browser, live_server, artifacts_dir):
    http = live_server.http
    username = f"ranger-{uuid.uuid4().hex[:8]}"
    password = "Kilima-cha-tembo-42"
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("dialog", lambda dialog: dialog.accept())  # "Disable …?", "Revoke …?"
    page.goto("/login")
    page.fill("input[name=username]", "warden")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")

    page.goto(f"/areas/{AREA_SLUG}/people")
    form = page.locator("#add-person")
    form.locator("input[name=username]").fill(username)
    form.locator("input[name=display_name]").fill("Zawadi Mrema")
    form.locator("input[name=password]").fill(password)
    form.locator("button[type=submit]").click()
    row = page.locator(f"#people tr[data-username='{username}']")
    row.wait_for()
    assert row.locator("select[name=role]").input_value() == "ranger"
    status, _ = http.json(
        "POST", "/api/v1/auth/token", {"username": username, "password": password}
    )
    assert status == 201  # the person can sign in

    with page.expect_navigation():
        row.locator("select[name=role]").select_option("manager")
    assert page.locator(f"#people tr[data-username='{username}'] select").input_value() == "manager"
    page.screenshot(path=str(artifacts_dir / "admin-people.png"), full_page=True)

    page.click("nav.pages >> text=Enrolment")
    page.select_option("#enrol select[name=username]", username)
    page.click("#enrol button[type=submit]")
    page.wait_for_selector("#enrolment-qr svg")
    code = page.locator("#enrolment-code-text").inner_text()
    assert page.locator("#enrolment-for").inner_text() == username
    assert page.locator("#enrolment-expires").inner_text().endswith("GMT+3")  # the park's zone
    assert page.locator("#enrolment-error").inner_text() == ""
    page.screenshot(path=str(artifacts_dir / "admin-enrolment-qr.png"), full_page=True)
    status, enrolled = http.json(
        "POST", "/api/v1/devices/enrol", {"code": code, "name": "Zawadi's handheld"}
    )
    assert status == 201
    device = enrolled["device_id"]
    assert http.json("GET", f"/api/v1/devices/{device}", token=enrolled["token"])[0] == 200

    page.reload()
    device_row = page.locator(f"#device-list tr[data-device='{device}']")
    assert device_row.locator("td").first.inner_text() == "Zawadi's handheld"
    with page.expect_navigation():
        device_row.locator("button[data-action=revoke]").click()
    assert "revoked" in page.locator(f"tr[data-device='{device}'] td.state").inner_text()
    assert http.json("GET", f"/api/v1/devices/{device}", token=enrolled["token"])[0] == 401
    page.screenshot(path=str(artifacts_dir / "admin-devices.png"), full_page=True)

    page.click("nav.pages >> text=People")
    with page.expect_navigation():
        page.click(f"#people tr[data-username='{username}'] button[data-action=disable]")
    assert (
        page.locator(f"#people tr[data-username='{username}'] td.state").inner_text() == "disabled"
    )
    status, _ = http.json(
        "POST", "/api/v1/auth/token", {"username": username, "password": password}
    )
    assert status == 401
    assert errors == []
    context.close()
