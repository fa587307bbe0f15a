"""The bad-input corpus: every case gets a clear 4xx or a per-record rejection with a code and a
pointer; never a 5xx, never a coerced value, nothing written for the rejected part."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from server.core.encoding import RequestDecoding
from tests.helpers import count_rows
from tests.server.sync import helpers as h

WRITTEN = ("reports", "patrols", "track_points", "sync_receipts")


def _report_with(**data):
    return h.report(**data)


def _polygon(ring):
    return {"type": "Polygon", "coordinates": [ring]}


# (name, record, expected code, expected pointer)
RECORD_CASES = [
    (
        "lat 91",
        _report_with(geometry={"type": "Point", "coordinates": [37.1, 91]}),
        "invalid-field",
        "/data/geometry",
    ),
    (
        "lon 200",
        _report_with(geometry={"type": "Point", "coordinates": [200, -3.4]}),
        "invalid-field",
        "/data/geometry",
    ),
    (
        "unclosed ring",
        h.report(
            category="illegal_logging",
            attributes={"species": "rosewood"},
            geometry=_polygon([[37.1, -3.4], [37.2, -3.4], [37.2, -3.3]]),
        ),
        "invalid-field",
        "/data/geometry",
    ),
    (
        "self-intersection",
        h.report(
            category="illegal_logging",
            attributes={"species": "rosewood"},
            geometry=_polygon([[37, -3], [37.1, -3.1], [37.1, -3], [37, -3.1], [37, -3]]),
        ),
        "invalid-field",
        "/data/geometry",
    ),
    (
        "one-point line",
        _report_with(geometry={"type": "LineString", "coordinates": [[37.1, -3.4]]}),
        "invalid-field",
        "/data/geometry",
    ),
    (
        "string coordinates",
        _report_with(geometry={"type": "Point", "coordinates": ["37.1", "-3.4"]}),
        "invalid-field",
        "/data/geometry",
    ),
    (
        "5-number position",
        _report_with(geometry={"type": "Point", "coordinates": [37.1, -3.4, 1, 2, 3]}),
        "invalid-field",
        "/data/geometry",
    ),
    (
        "naive timestamp",
        _report_with(observed_at="2026-11-20T06:00:00"),
        "invalid-field",
        "/data/observed_at",
    ),
    (
        "far-future timestamp",
        _report_with(observed_at="2099-01-01T00:00:00+00:00"),
        "time-after-send",
        "/data/observed_at",
    ),
    (
        "before 2000",
        _report_with(observed_at="1970-01-01T00:00:00+00:00"),
        "time-out-of-range",
        "/data/observed_at",
    ),
    ("unknown field", _report_with(colour="green"), "invalid-field", "/data/colour"),
    (
        "another park's area id",
        _report_with(area_id="8a5d1a7c-8c3e-4c43-9d0b-6ad1c7d6f0a1"),
        "invalid-field",
        "/data/area_id",
    ),
    ("unknown category", _report_with(category="unicorn"), "unknown-category", "/data/category"),
    (
        "attribute of wrong type",
        _report_with(attributes={"snare_type": "wire", "count": "2"}),
        "invalid-attributes",
        "/data/attributes/count",
    ),
    (
        "boolean as count",
        _report_with(attributes={"snare_type": "wire", "count": True}),
        "invalid-attributes",
        "/data/attributes/count",
    ),
    ("float priority", _report_with(priority=2.0), "invalid-field", "/data/priority"),
    ("unknown kind", {"kind": "selfie", "id": h.rid(), "data": {}}, "invalid-record", "/kind"),
    ("id not a UUID", {"kind": "report", "id": "42", "data": {}}, "invalid-record", "/id"),
    ("record not an object", 42, "invalid-record", "/_schema"),
    ("patrol of nowhere", h.chunk(h.rid(), 0, h.fixes(3)), "unknown-patrol", "/data/patrol_id"),
]


@pytest.mark.parametrize(
    ("record", "code", "pointer"), [c[1:] for c in RECORD_CASES], ids=[c[0] for c in RECORD_CASES]
)
def test_bad_record_is_rejected_with_code_and_pointer_and_nothing_written(
    client, db, record, code, pointer
):
    park = h.park(db)
    good = h.report()
    before = {t: count_rows(db, t) for t in WRITTEN}
    response = h.push(client, park, [record, good])
    assert response.status_code == 200
    bad_result, good_result = response.get_json()["results"]
    assert (bad_result["verdict"], bad_result["code"]) == ("rejected", code), bad_result
    assert bad_result["pointer"] == pointer
    assert bad_result["detail"]
    assert good_result["verdict"] == "stored"
    after = {t: count_rows(db, t) for t in WRITTEN}
    assert after["reports"] == before["reports"] + 1  # only the good one
    assert count_rows(db, "sync_quarantine") == 1


def _chunk_with(**columns):
    p = h.patrol()
    chunk = h.chunk(p["id"], 0, h.fixes(3))
    chunk["data"] |= columns
    return p, chunk


CHUNK_CASES = [
    ("float in a column", {"ddlon": [1.5, 0]}, "invalid-chunk", "/data/ddlon/0"),
    ("boolean in a column", {"ddlat": [True, 0]}, "invalid-chunk", "/data/ddlat/0"),
    ("string in a column", {"dt": ["30", 30]}, "invalid-chunk", "/data/dt/0"),
    ("columns of different lengths", {"ddlon": [1]}, "invalid-chunk", "/data/ddlon"),
    ("a step back beyond 7 days", {"dt": [30, -8 * 86400]}, "invalid-chunk", "/data/dt/1"),
    (
        "walks off the globe",
        {"ddlon": [0, 200_000_000]},
        "coordinate-out-of-range",
        "/data/ddlon/1",
    ),
    ("lat 91 start", {"lat0": 91_000_000}, "coordinate-out-of-range", "/data/lat0"),
    ("accuracy negative", {"acc": [5, -1, 5]}, "invalid-chunk", "/data/acc/1"),
    ("seq not an integer", {"seq": "0"}, "invalid-field", "/data/seq"),
]


@pytest.mark.parametrize(
    ("columns", "code", "pointer"), [c[1:] for c in CHUNK_CASES], ids=[c[0] for c in CHUNK_CASES]
)
def test_bad_chunk_is_rejected_and_no_fix_written(client, db, columns, code, pointer):
    park = h.park(db)
    p, chunk = _chunk_with(**columns)
    response = h.push(client, park, [p, chunk])
    stored, rejected = response.get_json()["results"]
    assert stored["verdict"] == "stored"
    assert (rejected["verdict"], rejected["code"], rejected["pointer"]) == (
        "rejected",
        code,
        pointer,
    )
    assert count_rows(db, "track_points") == 0


def test_chunk_over_the_point_limit_is_rejected(client, db):
    park = h.park(db)
    p = h.patrol()
    n = 10_001
    data = {
        "patrol_id": p["id"],
        "seq": 0,
        "t0": h.T0.isoformat(),
        "lon0": 37_100_000,
        "lat0": -3_400_000,
        "dt": [0] * (n - 1),
        "ddlon": [0] * (n - 1),
        "ddlat": [0] * (n - 1),
    }
    body = {
        "device_time": datetime.now(UTC).isoformat(),
        "records": [p, {"kind": "track_chunk", "id": h.rid(), "data": data}],
    }
    response = client.post(
        "/api/v1/sync/push",
        data=json.dumps(body, separators=(",", ":")),
        headers=park.headers | {"Content-Type": "application/json"},
    )
    result = response.get_json()["results"][1]
    assert (result["verdict"], result["code"]) == ("rejected", "chunk-too-large")
    assert count_rows(db, "track_points") == 0


def _post(client, park, data, **headers):
    return client.post("/api/v1/sync/push", data=data, headers=park.headers | headers)


@pytest.mark.parametrize(
    ("name", "body", "headers", "status", "code"),
    [
        (
            "NaN token",
            b'{"device_time": "2026-11-20T06:00:00Z", "records": [NaN]}',
            {"Content-Type": "application/json"},
            400,
            "bad-request",
        ),
        (
            "Infinity inside GeoJSON",
            b'{"device_time": "2026-11-20T06:00:00Z", "records": [{"kind": "report", "id": '
            b'"2b0b8c63-1f0e-4e0b-9a52-5f1d3f1c2a10", "data": {"geometry": {"type": "Point", '
            b'"coordinates": [Infinity, 0]}}}]}',
            {"Content-Type": "application/json"},
            400,
            "bad-request",
        ),
        (
            "malformed JSON",
            b'{"device_time": ',
            {"Content-Type": "application/json"},
            400,
            "bad-request",
        ),
        (
            "wrong content type",
            b"device_time=now",
            {"Content-Type": "text/plain"},
            415,
            "unsupported-media-type",
        ),
        (
            "unknown content encoding",
            b"\x00\x01",
            {"Content-Type": "application/json", "Content-Encoding": "br"},
            415,
            "unsupported-content-encoding",
        ),
        (
            "corrupt gzip",
            b"\x1f\x8b\x08\x00garbage",
            {"Content-Type": "application/json", "Content-Encoding": "gzip"},
            400,
            "bad-request",
        ),
        (
            "gzip bomb",
            gzip.compress(b'{"device_time": "' + b" " * 50_000_000 + b'"}'),
            {"Content-Type": "application/json", "Content-Encoding": "gzip"},
            413,
            "request-too-large",
        ),
        (
            "naive device time",
            b'{"device_time": "2026-11-20T06:00:00", "records": []}',
            {"Content-Type": "application/json"},
            422,
            "validation-failed",
        ),
        (
            "unknown envelope field",
            b'{"device_time": "2026-11-20T06:00:00Z", "records": [], "x": 1}',
            {"Content-Type": "application/json"},
            422,
            "validation-failed",
        ),
    ],
)
def test_bad_requests_get_a_clear_4xx_problem(client, db, name, body, headers, status, code):
    park = h.park(db)
    response = _post(client, park, body, **headers)
    assert response.status_code == status, (name, response.get_data(as_text=True)[:300])
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["type"] == f"/problems/{code}"
    assert count_rows(db, "sync_sessions") == 0


def test_decompression_ratio_cap_stops_a_bomb_early():
    """Below the size cap, a body inflating faster than the ratio allows is refused mid-stream."""
    seen = []

    def app(environ, start_response):
        seen.append(environ)
        start_response("200 OK", [])
        return [b""]

    middleware = RequestDecoding(app, max_bytes=512 * 1024 * 1024, max_ratio=200)
    bomb = gzip.compress(b"\0" * 100_000_000)
    environ = {
        "HTTP_CONTENT_ENCODING": "gzip",
        "CONTENT_LENGTH": str(len(bomb)),
        "wsgi.input": __import__("io").BytesIO(bomb),
        "PATH_INFO": "/x",
    }
    statuses = []
    body = b"".join(middleware(environ, lambda status, headers: statuses.append(status)))
    assert statuses == ["413 Content Too Large"] and b"200:1" in body
    assert seen == []


def test_text_postgresql_cannot_store_is_rejected_per_record_and_kept_escaped(client, db):
    park = h.park(db)
    nul = h.report(notes="snare\u0000wire")
    surrogate = h.report(notes="broken \ud800 text")
    good = h.report()
    response = h.push(client, park, [nul, surrogate, good])
    results = response.get_json()["results"]
    assert [(r["verdict"], r.get("code"), r.get("pointer")) for r in results] == [
        ("rejected", "unstorable-text", "/data/notes"),
        ("rejected", "unstorable-text", "/data/notes"),
        ("stored", None, None),
    ]
    kept = db.execute(
        text("SELECT raw->>'unstorable_json' FROM sync_quarantine WHERE record_id = :r"),
        {"r": nul["id"]},
    ).scalar_one()
    assert json.loads(kept) == nul  # the exact record, recoverable


def test_nul_in_any_other_request_is_a_422_not_a_500(client, db):
    from tests import factories

    park = factories.area(db)
    factories.user(db, park.id, "admin", "chief")
    db.commit()
    response = client.post(
        f"/api/v1/areas/{park.slug}/members",
        json={
            "username": "nul.user",
            "password": "long-and-unusual-1",
            "role": "ranger",
            "display_name": "Nul\u0000Name",
        },
        headers=factories.auth(factories.token(client, "chief")),
    )
    assert response.status_code == 422
    assert response.get_json()["type"] == "/problems/unstorable-value"
    # said in our words, not the database's or the driver's
    detail = response.get_json()["detail"]
    assert "NUL character" in detail
    assert "PostgreSQL" not in detail and "0x00" not in detail
