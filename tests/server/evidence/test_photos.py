"""Photos as evidence: decompression bombs refused before decoding, thumbnails for the
dashboard, the files served inert, and a report shown while its photos are still on their way."""

from __future__ import annotations

import hashlib
import io
import os

from PIL import Image
from sqlalchemy import text

from tests.server.evidence.helpers import (
    TUS,
    attachment_state,
    create_upload,
    declare_attachment,
    patch_upload,
)
from tests.server.sync import helpers as h


def _photo(width: int = 1600, height: int = 1200, orientation: int | None = None) -> bytes:
    """A real JPEG of noise (so no other test has the same bytes), optionally with EXIF
    orientation 6: the camera was held upright, the pixels are on their side."""
    image = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    out = io.BytesIO()
    image.save(out, "JPEG", quality=70, exif=exif.tobytes())
    return out.getvalue()


def _upload(client, park, data: bytes, media_type: str = "image/jpeg"):
    attachment_id = declare_attachment(client, park, data, media_type)
    location = create_upload(client, park, attachment_id, len(data)).headers["Location"]
    return attachment_id, patch_upload(client, park, location, 0, data)


def _report_of(db, attachment_id: str) -> str:
    return str(
        db.execute(
            text("SELECT report_id FROM attachments WHERE id = :a"), {"a": attachment_id}
        ).scalar_one()
    )


def test_a_photo_gets_an_upright_thumbnail_and_is_served_inert(client, db):
    park = h.park(db)
    photo = _photo(1600, 1200, orientation=6)
    attachment_id, done = _upload(client, park, photo)
    assert done.status_code == 204

    thumb = client.get(f"/api/v1/attachments/{attachment_id}/thumbnail", headers=park.headers)
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
    with Image.open(io.BytesIO(thumb.data)) as small:
        assert small.size == (360, 480)  # turned upright as the EXIF says, 480 px on its long side

    file = client.get(f"/api/v1/attachments/{attachment_id}/file", headers=park.headers)
    assert file.status_code == 200 and file.data == photo
    assert file.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in file.headers["Content-Security-Policy"]
    again = client.get(
        f"/api/v1/attachments/{attachment_id}/file",
        headers=park.headers | {"If-None-Match": f'"{hashlib.sha256(photo).hexdigest()}"'},
    )
    assert again.status_code == 304
    part = client.get(
        f"/api/v1/attachments/{attachment_id}/file",
        headers=park.headers | {"Range": "bytes=100-199"},
    )
    assert part.status_code == 206 and part.data == photo[100:200]


def test_a_decompression_bomb_is_refused_before_it_is_decoded(client, db):
    park = h.park(db)
    bomb = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(bomb, "PNG", optimize=True)  # 400 MP in a few KB
    data = bomb.getvalue()
    assert len(data) < 200_000
    attachment_id, refused = _upload(client, park, data, "image/png")
    assert refused.status_code == 422
    problem = refused.get_json()
    assert problem["type"] == "/problems/image-too-many-pixels"
    assert (problem["width"], problem["height"]) == (20_000, 20_000)
    assert attachment_state(db, attachment_id) == "failed"
    gone = client.get(f"/api/v1/attachments/{attachment_id}/file", headers=park.headers)
    assert gone.status_code == 404 and gone.get_json()["state"] == "failed"


def test_a_report_is_shown_while_its_photo_is_on_its_way(client, db):
    park = h.park(db)
    photo = _photo(640, 480)
    attachment_id = declare_attachment(client, park, photo)
    report_id = _report_of(db, attachment_id)

    shown = client.get(f"/api/v1/reports/{report_id}", headers=park.headers).get_json()
    (expected,) = shown["attachments"]
    assert expected["id"] == attachment_id and expected["state"] == "expected"
    assert expected["file"] is None and expected["size_bytes"] == len(photo)
    missing = client.get(f"/api/v1/attachments/{attachment_id}/file", headers=park.headers)
    assert missing.status_code == 404 and missing.get_json()["state"] == "expected"

    location = create_upload(client, park, attachment_id, len(photo)).headers["Location"]
    patch_upload(client, park, location, 0, photo[:1000])
    halfway = client.get(f"/api/v1/reports/{report_id}", headers=park.headers).get_json()
    assert halfway["attachments"][0]["state"] == "uploading"
    assert client.head(location, headers=park.headers | TUS).headers["Upload-Offset"] == "1000"
    patch_upload(client, park, location, 1000, photo[1000:])
    stored = client.get(f"/api/v1/reports/{report_id}", headers=park.headers).get_json()
    assert stored["attachments"][0]["state"] == "stored"
    assert stored["attachments"][0]["file"] == f"/api/v1/attachments/{attachment_id}/file"


def test_a_photo_that_does_not_decode_is_kept_without_a_thumbnail(client, db):
    """A truncated JPEG from a crashed camera app is still evidence: kept, no thumbnail."""
    park = h.park(db)
    broken = _photo(800, 600)[:20_000]
    attachment_id, done = _upload(client, park, broken)
    assert done.status_code == 204 and attachment_state(db, attachment_id) == "stored"
    none = client.get(f"/api/v1/attachments/{attachment_id}/thumbnail", headers=park.headers)
    assert none.status_code == 404
    assert (
        client.get(f"/api/v1/attachments/{attachment_id}/file", headers=park.headers).data == broken
    )
