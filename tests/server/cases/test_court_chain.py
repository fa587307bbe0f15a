"""Evidence that stands up in court, end to end against a real server: a handheld photographs a
snare wire and its tusks, syncs through a link that keeps dropping, and keeps the server's
signed receipt; a ranger numbers the exhibits and hands the tusks to an investigator (both
sign); a DNA sample goes to a lab whose result links two seizures; the case is closed with its
outcome; its package verifies offline. Then each kind of tampering fails verification at the
check where it happened, and suspects' data reaches no one but investigators."""

from __future__ import annotations

import base64
import json
import random
import subprocess
import uuid
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

import psycopg
import pypdfium2
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from server.cases.verify import verify_package
from sync.device.client import DeviceClient
from sync.device.photos import photo
from tests.faults import FaultyProxy
from tests.live import BIN

PASSWORD = "mweusi-demo-2026"  # the demo accounts'
SUSPECT = {"name": "Zawadi Mshukiwa", "id_number": "NIDA-4471-TEST", "nationality": "TZ"}


@dataclass
class Chain:
    server: object
    case_id: str
    attachment_id: str
    device_receipt: dict
    items: dict[str, str]  # what → id
    seizures: list[str]
    report_id: str
    package: Path
    tokens: dict[str, str]


def _cli(server, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [BIN / "rangersync", *args], env=server.env, capture_output=True, text=True, check=False
    )


def _token(server, username: str) -> str:
    status, body = server.http.json(
        "POST", "/api/v1/auth/token", {"username": username, "password": PASSWORD}
    )
    assert status == 201, body
    return body["access_token"]


def _ok(server, method: str, path: str, body, token: str, status: int = 201) -> dict:
    got, answer = server.http.json(method, path, body, token)
    assert got == status, (path, answer)
    return answer


@pytest.fixture(scope="module")
def chain(live_server, tmp_path_factory) -> Chain:
    server = live_server
    tmp = tmp_path_factory.mktemp("court")
    code = _cli(server, "device", "enrol", "--area", "demo", "--user", "baraka").stdout.strip()
    token = server.http.json("POST", "/api/v1/devices/enrol", {"code": code})[1]["token"]
    target = urlparse(server.url)
    proxy = FaultyProxy((target.hostname, target.port), cut_probability=0.3, seed=16)
    device = DeviceClient(
        proxy.url,
        token,
        tmp / "outbox.db",
        retries=40,
        backoff_s=0.001,
        sleep=lambda s: None,
        upload_chunk=16 * 1024,
    )
    taken = datetime.now(UTC) - timedelta(hours=2)
    report_id = device.record_report(
        "poaching.snare",
        {"type": "Point", "coordinates": [37.66, -3.47]},
        taken,
        attributes={"snare_type": "wire", "count": 1},
    )
    content = photo(120_000, random.Random(16))
    attachment_id = device.declare_attachment(report_id, content, "image/jpeg")
    try:
        for _ in range(20):  # the ranger keeps syncing until the server has vouched for it
            try:
                device.sync()
            except OSError:
                continue
            if device.pending() == 0 and device.receipt(attachment_id):
                break
    finally:
        proxy.close()
    assert proxy.cuts > 0, "the link should really have dropped"
    held = device.receipt(attachment_id)
    assert held is not None, "the device never got its receipt"
    receipt, verified, problem = held
    assert verified, problem

    tokens = {u: _token(server, u) for u in ("baraka", "inspekta", "manager", "partner", "amani")}
    ranger, investigator = tokens["baraka"], tokens["inspekta"]
    seizures = [
        s["id"]
        for s in _ok(server, "GET", "/api/v1/areas/demo/seizures", None, tokens["manager"], 200)
    ][:2]
    photo_item = _ok(
        server,
        "POST",
        "/api/v1/areas/demo/evidence-items",
        {
            "kind": "digital",
            "description": "Snare wire and tusks at the scene",
            "attachment_id": attachment_id,
            "seizure_id": seizures[0],
        },
        ranger,
    )
    tusks = _ok(
        server,
        "POST",
        "/api/v1/areas/demo/evidence-items",
        {
            "kind": "physical",
            "description": "Two tusks in evidence bag",
            "seizure_id": seizures[0],
            "report_id": report_id,
            "seal_number": "T-100",
            "place": "Snare line 4",
        },
        ranger,
    )
    assert tusks["holder"] == "user baraka" and tusks["custody"][0]["body"]["kind"] == "intake"
    handover = _ok(
        server,
        "POST",
        f"/api/v1/evidence-items/{tusks['id']}/handovers",
        {
            "place": "Park HQ",
            "purpose": "exhibit store",
            "condition": "sealed",
            "seal_number": "T-100",
        },
        investigator,
    )
    # the receiver cannot sign for the giver
    assert (
        server.http.json(
            "POST", f"/api/v1/handovers/{handover['id']}/acknowledge", None, investigator
        )[0]
        == 403
    )
    entry = _ok(server, "POST", f"/api/v1/handovers/{handover['id']}/acknowledge", None, ranger)
    assert (
        entry["body"]["recorded_by"] == "inspekta" and entry["body"]["acknowledged_by"] == "baraka"
    )
    sample = _ok(
        server,
        "POST",
        f"/api/v1/evidence-items/{tusks['id']}/samples",
        {"analysis": "dna", "description": "Tusk base powder", "seal_number": "S-7"},
        investigator,
    )
    _ok(
        server,
        "POST",
        f"/api/v1/evidence-items/{sample['id']}/outside",
        {"party": "Forensic Lab", "reference": "FL-1", "purpose": "DNA"},
        investigator,
    )
    _ok(
        server,
        "POST",
        f"/api/v1/evidence-items/{sample['id']}/lab-results",
        {
            "lab": "Forensic Lab",
            "lab_reference": "FL-1",
            "summary": "same elephant",
            "species_confirmed": "Loxodonta africana",
            "reported_at": datetime.now(UTC).isoformat(),
            "matched_seizure_id": seizures[1],
        },
        investigator,
    )
    case = _ok(
        server,
        "POST",
        "/api/v1/areas/demo/cases",
        {"title": "Snare line 4 ivory", "seizure_ids": [seizures[0]], "report_ids": [report_id]},
        investigator,
    )
    _ok(server, "POST", f"/api/v1/cases/{case['id']}/suspects", SUSPECT, investigator)
    _ok(
        server,
        "PATCH",
        f"/api/v1/cases/{case['id']}",
        {
            "status": "in_court",
            "court": "RM Court",
            "charges": [{"statute": "WCA s.86", "description": "possession"}],
        },
        investigator,
        200,
    )
    closed = _ok(
        server,
        "PATCH",
        f"/api/v1/cases/{case['id']}",
        {"status": "closed", "outcome": "convicted", "sentence": "5 years"},
        investigator,
        200,
    )
    assert closed["closed_at"] and closed["suspects"] == 1 and closed["items"] == 3

    listed = _cli(server, "case", "list", "--area", "demo")
    assert listed.returncode == 0 and case["id"] in listed.stdout.split("\n")
    package = tmp / "case.zip"
    built = _cli(server, "evidence", "package", "--case", case["id"], "--output", str(package))
    assert built.returncode == 0, built.stderr
    return Chain(
        server,
        case["id"],
        attachment_id,
        receipt,
        {"photo": photo_item["id"], "tusks": tusks["id"], "sample": sample["id"]},
        seizures,
        report_id,
        package,
        tokens,
    )


def test_the_whole_chain_verifies_offline(chain):
    verified = _cli(chain.server, "evidence", "verify", str(chain.package))
    assert verified.returncode == 0, verified.stdout + verified.stderr
    lines = verified.stdout.splitlines()
    checks = ["package", "keys", "files", "receipts", "custody", "audit", "manifest"]
    assert [line.split()[1] for line in lines[: len(checks)]] == checks
    assert all(line.startswith("ok") for line in lines[: len(checks)])
    assert "verifies" in lines[-1]


def test_investigators_download_the_package_and_managers_cannot(chain, tmp_path):
    url = f"/api/v1/cases/{chain.case_id}/package"
    status, headers, body = chain.server.http("GET", url, token=chain.tokens["inspekta"])
    assert status == 200 and headers["Content-Type"] == "application/zip"
    downloaded = tmp_path / "downloaded.zip"
    downloaded.write_bytes(body)
    assert verify_package(downloaded).ok  # (before the audit log is tampered with below)
    assert chain.server.http("GET", url, token=chain.tokens["manager"])[0] == 403


def test_the_package_holds_the_receipt_the_device_keeps(chain):
    manifest = json.loads(zipfile.ZipFile(chain.package).read("manifest.json"))
    item = next(i for i in manifest["items"] if i["id"] == chain.items["photo"])
    assert item["receipt"] == chain.device_receipt
    payload = json.loads(item["receipt"]["payload"])
    assert payload["report_id"] == chain.report_id and payload["position"] == [37.66, -3.47]
    tusks = next(i for i in manifest["items"] if i["id"] == chain.items["tusks"])
    assert [json.loads(e["body"])["kind"] for e in tusks["custody"]] == ["intake", "transfer"]
    assert manifest["suspects"][0]["name"] == SUSPECT["name"]  # the court is told


def test_a_dna_match_shows_on_both_seizures(chain):
    token = chain.tokens["manager"]
    for here, there in ((0, 1), (1, 0)):
        links = _ok(
            chain.server,
            "GET",
            f"/api/v1/seizures/{chain.seizures[here]}/forensic-links",
            None,
            token,
            200,
        )
        assert chain.seizures[there] in {link["other_seizure_id"] for link in links}


def test_the_court_report_renders_pages_that_are_not_blank(chain):
    pdf = pypdfium2.PdfDocument(zipfile.ZipFile(chain.package).read("report.pdf"))
    assert len(pdf) == 4  # the summary and one page per item
    for page in pdf:
        image = page.render(scale=0.5).to_pil().convert("L")
        lo, hi = image.getextrema()
        dark = sum(image.histogram()[:128])
        assert hi - lo > 100 and dark > 500, "a blank page"


# --- tampering: each fails at its own check -------------------------------------------------------


def _rewrite(source: Path, target: Path, change) -> Path:
    with zipfile.ZipFile(source) as original:
        contents = {name: original.read(name) for name in original.namelist()}
    change(contents)
    with zipfile.ZipFile(target, "w") as out:
        for name, data in contents.items():
            out.writestr(name, data)
    return target


def _manifest_change(change):
    def apply(contents):
        manifest = json.loads(contents["manifest.json"])
        change(manifest)
        contents["manifest.json"] = json.dumps(manifest, indent=1, sort_keys=True).encode()

    return apply


def _first_failure(path: Path) -> tuple[str, str]:
    result = verify_package(path)
    failed = result.first_failed
    assert failed is not None, "tampering went unnoticed"
    return failed.name, failed.detail


def _tusks(manifest, chain):
    return next(i for i in manifest["items"] if i["id"] == chain.items["tusks"])


def test_one_byte_of_a_photo_changed_fails_at_files(chain, tmp_path):
    def flip(contents):
        name = next(n for n in contents if n.startswith("files/"))
        data = bytearray(contents[name])
        data[len(data) // 2] ^= 1
        contents[name] = bytes(data)

    name, detail = _first_failure(_rewrite(chain.package, tmp_path / "t.zip", flip))
    assert name == "files" and "files/" in detail


def test_a_custody_entry_removed_fails_at_custody(chain, tmp_path):
    def remove(manifest):
        _tusks(manifest, chain)["custody"].pop(0)

    changed = _rewrite(chain.package, tmp_path / "t.zip", _manifest_change(remove))
    name, detail = _first_failure(changed)
    assert name == "custody" and "entry 1" in detail


def test_the_last_custody_entry_removed_fails_at_custody(chain, tmp_path):
    def remove(manifest):
        _tusks(manifest, chain)["custody"].pop()

    name, detail = _first_failure(
        _rewrite(chain.package, tmp_path / "t.zip", _manifest_change(remove))
    )
    assert name == "custody" and "no longer has" in detail


def test_two_custody_entries_swapped_fail_at_custody(chain, tmp_path):
    def swap(manifest):
        entries = _tusks(manifest, chain)["custody"]
        entries[0], entries[1] = entries[1], entries[0]

    name, _ = _first_failure(_rewrite(chain.package, tmp_path / "t.zip", _manifest_change(swap)))
    assert name == "custody"


def test_a_receipt_signed_by_another_key_fails_at_receipts(chain, tmp_path):
    forger = Ed25519PrivateKey.generate()

    def forge(manifest):
        item = next(i for i in manifest["items"] if i["id"] == chain.items["photo"])
        payload = json.loads(item["receipt"]["payload"])
        payload["captured_at"] = "2020-01-01T00:00:00+00:00"  # what the forger wants to say
        item["receipt"]["payload"] = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        signature = forger.sign(item["receipt"]["payload"].encode())
        item["receipt"]["signature"] = base64.b64encode(signature).decode()

    name, detail = _first_failure(
        _rewrite(chain.package, tmp_path / "t.zip", _manifest_change(forge))
    )
    assert name == "receipts" and "does not verify" in detail


def test_an_audit_entry_edited_in_the_database_fails_at_audit(chain, tmp_path):
    url = chain.server.env["DATABASE_URL"].replace("+psycopg", "")
    with psycopg.connect(url) as conn:
        # Someone with the database's keys bypasses the append-only triggers and rewrites the
        # sentence recorded when the case was closed.
        conn.execute("SET session_replication_role = replica")
        conn.execute(
            "UPDATE audit_log SET details = jsonb_set(details, '{sentence}', '\"6 months\"')"
            " WHERE action = 'case.close' AND object_id = %s",
            (chain.case_id,),
        )
    package = tmp_path / "edited.zip"
    built = _cli(
        chain.server, "evidence", "package", "--case", chain.case_id, "--output", str(package)
    )
    assert built.returncode == 0, built.stderr
    verified = _cli(chain.server, "evidence", "verify", str(package))
    assert verified.returncode == 1
    assert "FAIL  audit" in verified.stdout and "case.close" in verified.stdout
    assert "first failed check: audit" in verified.stderr


def test_the_custody_log_refuses_edits_and_deletes(chain):
    url = chain.server.env["DATABASE_URL"].replace("+psycopg", "")
    for statement in ("UPDATE custody_entries SET body = '{}'", "DELETE FROM custody_entries"):
        with psycopg.connect(url) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(statement)


# --- who sees suspects -----------------------------------------------------------------------------


def test_suspects_reach_no_manager_partner_or_ranger_by_any_route(chain, base_app):
    values = {
        "area": "demo",
        "case_id": chain.case_id,
        "item_id": chain.items["tusks"],
        "seizure_id": chain.seizures[0],
        "attachment_id": chain.attachment_id,
        "report_id": chain.report_id,
    }
    paths = []
    for rule in base_app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static" or "stream" in rule.rule:
            continue
        if not set(rule.arguments) <= set(values):
            continue
        paths.append(_build(rule, values))
    assert "/api/v1/cases/" + chain.case_id + "/suspects" in paths and len(paths) > 40
    secrets = (SUSPECT["name"], SUSPECT["id_number"], "Mshukiwa")
    for who in ("manager", "partner", "amani"):
        for path in paths:
            status, _, body = chain.server.http("GET", path, token=chain.tokens[who])
            assert not any(s.encode() in body for s in secrets), (who, path, status)
    _, seen = chain.server.http.json(
        "GET", f"/api/v1/cases/{chain.case_id}/suspects", token=chain.tokens["inspekta"]
    )
    assert seen[0]["name"] == SUSPECT["name"]
    assert (
        chain.server.http(
            "GET", f"/api/v1/cases/{chain.case_id}/suspects", token=chain.tokens["manager"]
        )[0]
        == 403
    )
    _, case = chain.server.http.json(
        "GET", f"/api/v1/cases/{chain.case_id}", token=chain.tokens["manager"]
    )
    assert case["suspects"] == 1 and case["outcome"] == "convicted"  # counts and outcomes
    for who in ("partner", "amani"):
        assert chain.server.http("GET", f"/api/v1/cases/{chain.case_id}", token=chain.tokens[who])[
            0
        ] in (403, 404)


def _build(rule, values) -> str:
    path = rule.rule
    for name in rule.arguments:
        path = path.replace(f"<{name}>", values[name])
        for converter in ("uuid", "string", "path"):
            path = path.replace(f"<{converter}:{name}>", values[name])
    return path


def test_suspects_data_is_ciphertext_in_the_database(chain):
    url = chain.server.env["DATABASE_URL"].replace("+psycopg", "")
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT sealed FROM case_suspects").fetchall()
    assert rows and not any(SUSPECT["name"].encode() in bytes(r[0]) for r in rows)


def test_a_stored_file_altered_on_disk_is_flagged_and_fails_the_package(chain, tmp_path):
    manifest = json.loads(zipfile.ZipFile(chain.package).read("manifest.json"))
    sha = next(i for i in manifest["items"] if i["id"] == chain.items["photo"])["file"]["sha256"]
    blob = (
        Path(chain.server.env["RANGERSYNC_VAR_DIR"])
        / "evidence"
        / "sha256"
        / sha[:2]
        / sha[2:4]
        / sha
    )
    original = blob.read_bytes()
    blob.write_bytes(original[:-1] + bytes([original[-1] ^ 1]))
    try:
        package = tmp_path / "altered.zip"
        built = _cli(
            chain.server, "evidence", "package", "--case", chain.case_id, "--output", str(package)
        )
        assert built.returncode == 0, built.stderr
        altered = json.loads(zipfile.ZipFile(package).read("manifest.json"))
        item = next(i for i in altered["items"] if i["id"] == chain.items["photo"])
        assert [f["kind"] for f in item["flags"]] == ["file"]
        assert _first_failure(package)[0] == "files"
    finally:
        blob.write_bytes(original)


def test_a_damaged_zip_is_a_failed_check_not_a_crash(chain, tmp_path):
    data = chain.package.read_bytes()
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(data[: len(data) // 2])
    answer = _cli(chain.server, "evidence", "verify", str(truncated))
    assert answer.returncode == 1 and "first failed check: package" in answer.stderr
    assert "Traceback" not in answer.stderr

    with zipfile.ZipFile(chain.package) as original:  # a stored file's bytes damaged in place
        info = original.getinfo("report.pdf")
    damaged = bytearray(data)
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    for i in range(start + 10, start + 60):
        damaged[i] ^= 0xFF
    broken = tmp_path / "broken.zip"
    broken.write_bytes(bytes(damaged))
    answer = _cli(chain.server, "evidence", "verify", str(broken))
    assert answer.returncode == 1 and "first failed check: files" in answer.stderr
    assert "Traceback" not in answer.stderr


def test_packaging_a_case_that_does_not_exist_says_so_and_leaves_no_file(chain, tmp_path):
    output = tmp_path / "none.zip"
    answer = _cli(
        chain.server, "evidence", "package", "--case", str(uuid.uuid4()), "--output", str(output)
    )
    assert answer.returncode != 0 and "no such case" in answer.stderr
    assert list(tmp_path.iterdir()) == []
