"""Compressed answers: br or gzip as the client accepts, for text and JSON only, whole answers
only (never the live SSE stream, a range, or a photo), with Vary and a weak ETag that still gives
304; and what it saves on the map page in a real Chromium (figures printed)."""

from __future__ import annotations

import gzip
import json
import urllib.request

import brotli
import pytest

from server.core.compression import ResponseCompression, chosen_encoding
from server.demo.geodata import AREA_SLUG
from server.demo.seed import DEMO_PASSWORD
from tests import factories

MAPLIBRE = "/static/vendor/maplibre-gl/maplibre-gl.js"


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        ("gzip, deflate, br, zstd", "br"),
        ("gzip", "gzip"),
        ("br;q=0, gzip", "gzip"),
        ("gzip;q=0.5, br;q=0.4", "gzip"),
        ("*", "br"),
        ("*;q=0", None),
        ("identity", None),
        ("", None),
        ("x-gzip", "gzip"),
    ],
)
def test_the_encoding_is_what_the_client_accepts(accept, chosen):
    assert chosen_encoding(accept) == chosen


def test_json_goes_out_compressed_and_means_the_same(client, db):
    area = factories.area(db)
    token = factories.token(client, factories.user(db, area.id, "manager").username)
    path = "/api/openapi.json"
    plain = client.get(path, headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers
    assert "Accept-Encoding" in plain.headers["Vary"]
    br = client.get(path, headers={"Accept-Encoding": "gzip, br"} | factories.auth(token))
    assert br.headers["Content-Encoding"] == "br" and "Accept-Encoding" in br.headers["Vary"]
    assert int(br.headers["Content-Length"]) == len(br.data) < len(plain.data) / 4
    assert json.loads(brotli.decompress(br.data)) == plain.json
    gz = client.get(path, headers={"Accept-Encoding": "gzip"})
    assert gz.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(gz.data) == plain.data


def test_a_small_answer_goes_out_as_it_is(client):
    small = client.get("/problems/not-found", headers={"Accept-Encoding": "br"})
    assert len(small.data) < 1024 and "Content-Encoding" not in small.headers


def test_a_script_is_compressed_once_with_a_weak_etag_that_still_gives_304(client):
    first = client.get(MAPLIBRE, headers={"Accept-Encoding": "br"})
    assert first.headers["Content-Encoding"] == "br"
    etag = first.headers["ETag"]
    assert etag.startswith('W/"')
    assert first.headers["Vary"] == "Accept-Encoding"  # a static file: no session, no Cookie
    again = client.get(MAPLIBRE, headers={"Accept-Encoding": "br"})
    assert again.data == first.data  # from the cache of compressed files
    unchanged = client.get(MAPLIBRE, headers={"Accept-Encoding": "br", "If-None-Match": etag})
    assert unchanged.status_code == 304
    partial = client.get(MAPLIBRE, headers={"Accept-Encoding": "br", "Range": "bytes=0-99"})
    assert partial.status_code == 206 and "Content-Encoding" not in partial.headers
    assert len(partial.data) == 100


def test_streams_and_compressed_media_are_left_alone():
    """The middleware alone, under the three kinds of answer it must not touch."""
    answers = {
        "/live": ("200 OK", [("Content-Type", "text/event-stream")], None),
        "/photo": ("200 OK", [("Content-Type", "image/jpeg")], 5000),
        "/done": ("200 OK", [("Content-Type", "text/css"), ("Content-Encoding", "gzip")], 5000),
    }

    def app(environ, start_response):
        status, headers, length = answers[environ["PATH_INFO"]]
        body = b"x" * 5000
        if length is not None:
            headers = [*headers, ("Content-Length", str(length))]
        start_response(status, headers)
        return iter([body]) if length is None else [body]

    wrapped = ResponseCompression(app)
    for path in answers:
        seen = {}
        body = b"".join(
            wrapped(
                {"PATH_INFO": path, "REQUEST_METHOD": "GET", "HTTP_ACCEPT_ENCODING": "br, gzip"},
                lambda status, headers, exc_info=None: seen.update(headers=dict(headers)),  # noqa: B023
            )
        )
        assert body == b"x" * 5000, path
        assert seen["headers"].get("Content-Encoding") in (None, "gzip"), path


def test_the_live_stream_is_never_compressed(live_server):
    _, _, body = live_server.http(
        "POST", "/api/v1/auth/token", {"username": "manager", "password": DEMO_PASSWORD}
    )
    token = json.loads(body)["access_token"]
    request = urllib.request.Request(  # noqa: S310 (loopback)
        f"{live_server.url}/api/v1/areas/{AREA_SLUG}/live",
        headers={"Authorization": f"Bearer {token}", "Accept-Encoding": "br, gzip"},
    )
    with urllib.request.urlopen(request, timeout=10) as stream:  # noqa: S310 (loopback)
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        assert stream.headers.get("Content-Encoding") is None


def test_what_compression_saves_on_the_map_page(browser, live_server, artifacts_dir):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto("/login")
    page.fill("input[name=username]", "manager")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    responses = []
    page.on("response", lambda response: responses.append(response))
    page.goto(f"/areas/{AREA_SLUG}/map")
    page.wait_for_selector("#map[data-ready=true]", timeout=60_000)
    page.wait_for_load_state("networkidle")
    decoded = transferred = 0
    lines = []
    for response in responses:
        if response.status != 200:
            continue
        sizes = response.request.sizes()
        body = len(response.body())
        decoded += body + sizes["responseHeadersSize"]
        transferred += sizes["responseBodySize"] + sizes["responseHeadersSize"]
        if response.url.endswith("maplibre-gl.js"):
            encoding = response.headers.get("content-encoding")
            lines.append(
                f"maplibre-gl.js: {body} bytes, {sizes['responseBodySize']} on the wire ({encoding})"
            )
            assert encoding == "br" and sizes["responseBodySize"] < body / 3
    lines.append(
        f"map page: {len(responses)} answers, {decoded} bytes uncompressed, {transferred} bytes "
        f"transferred ({100 * transferred / decoded:.0f} %); at 1.5 Mbit/s "
        f"{decoded * 8 / 1.5e6:.1f} s → {transferred * 8 / 1.5e6:.1f} s"
    )
    print("\n" + "\n".join(lines))
    (artifacts_dir / "compression-map-page.txt").write_text("\n".join(lines) + "\n")
    assert transferred < decoded / 2
    context.close()
