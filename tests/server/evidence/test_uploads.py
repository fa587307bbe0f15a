"""Resumable evidence uploads (tus 1.0): offsets, checksums, hashes, media types, dedupe."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import subprocess
import urllib.request
from datetime import UTC, datetime, timedelta

import psycopg
from sqlalchemy import update
from tusclient import client as tus

from server.core.db import utcnow
from server.evidence.models import Upload
from tests import factories
from tests.live import BIN
from tests.server.evidence.helpers import (
    TUS,
    attachment_state,
    create_upload,
    declare_attachment,
    patch_upload,
)
from tests.server.sync import helpers as h


def _jpeg() -> bytes:
    """A photo's signature and random bytes: a photo no other test has (the store is shared)."""
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + os.urandom(300_000)


def test_an_interrupted_upload_resumes_from_the_servers_offset(client, db, app):
    park = h.park(db)
    photo = _jpeg()
    attachment_id = declare_attachment(client, park, photo)
    created = create_upload(client, park, attachment_id, len(photo))
    assert created.status_code == 201 and created.headers["Tus-Resumable"] == "1.0.0"
    location = created.headers["Location"]
    assert (
        patch_upload(client, park, location, 0, photo[:100_000]).headers["Upload-Offset"]
        == "100000"
    )
    head = client.head(location, headers=park.headers | TUS)
    assert head.headers["Upload-Offset"] == "100000" and head.headers["Upload-Length"] == str(
        len(photo)
    )
    wrong = patch_upload(client, park, location, 50_000, photo[50_000:150_000])
    assert wrong.status_code == 409
    bad = base64.b64encode(hashlib.sha1(b"not these bytes").digest()).decode()  # noqa: S324
    refused = patch_upload(
        client,
        park,
        location,
        100_000,
        photo[100_000:200_000],
        **{"Upload-Checksum": f"sha1 {bad}"},
    )
    assert refused.status_code == 460
    assert client.head(location, headers=park.headers | TUS).headers["Upload-Offset"] == "100000"
    good = base64.b64encode(hashlib.sha1(photo[100_000:]).digest()).decode()  # noqa: S324
    done = patch_upload(
        client, park, location, 100_000, photo[100_000:], **{"Upload-Checksum": f"sha1 {good}"}
    )
    assert done.status_code == 204 and done.headers["Upload-Offset"] == str(len(photo))
    assert attachment_state(db, attachment_id) == "stored"
    store = app.extensions["rangersync"].evidence
    assert store.blob(hashlib.sha256(photo).hexdigest()).read_bytes() == photo


def test_the_same_photo_on_two_reports_is_stored_once(client, db, app):
    park = h.park(db)
    photo = _jpeg()
    first, second = declare_attachment(client, park, photo), declare_attachment(client, park, photo)
    for attachment_id in (first, second):
        location = create_upload(client, park, attachment_id, len(photo)).headers["Location"]
        assert patch_upload(client, park, location, 0, photo).status_code == 204
        assert attachment_state(db, attachment_id) == "stored"
    store = app.extensions["rangersync"].evidence
    assert len(list((store.root / "sha256").rglob(hashlib.sha256(photo).hexdigest()))) == 1
    again = create_upload(client, park, first, len(photo))  # a client that lost the last answer
    assert again.status_code == 409 and again.get_json()["stored"] is True


def test_a_zip_or_a_page_dressed_as_a_photo_is_refused(client, db):
    park = h.park(db)
    for fake in (
        b"PK\x03\x04" + os.urandom(1000),
        b"<html><script>alert(1)</script></html>",
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    ):
        attachment_id = declare_attachment(client, park, fake)
        location = create_upload(client, park, attachment_id, len(fake)).headers["Location"]
        refused = patch_upload(client, park, location, 0, fake)
        assert (
            refused.status_code == 415
            and refused.get_json()["type"] == "/problems/media-type-refused"
        )
        assert attachment_state(db, attachment_id) == "failed"


def test_bytes_that_are_not_the_declared_file_are_refused(client, db):
    park = h.park(db)
    photo = _jpeg()
    attachment_id = declare_attachment(client, park, photo)
    location = create_upload(client, park, attachment_id, len(photo)).headers["Location"]
    swapped = photo[:-1] + b"\x00"
    response = patch_upload(client, park, location, 0, swapped)
    assert response.status_code == 422 and response.get_json()["type"] == "/problems/hash-mismatch"


def test_limits_and_tus_rules(client, db):
    park = h.park(db)
    photo = _jpeg()
    attachment_id = declare_attachment(client, park, photo)
    too_big = create_upload(client, park, attachment_id, 10**12)
    assert too_big.status_code == 413
    wrong_size = create_upload(client, park, attachment_id, len(photo) - 1)
    assert wrong_size.status_code == 409
    no_tus = client.post("/api/v1/uploads", headers=park.headers | {"Upload-Length": "10"})
    assert no_tus.status_code == 412 and no_tus.headers["Tus-Version"] == "1.0.0"
    options = client.options("/api/v1/uploads")
    assert options.status_code == 204 and "termination" in options.headers["Tus-Extension"]


def test_termination_and_expiry(client, db):
    park = h.park(db)
    photo = _jpeg()
    attachment_id = declare_attachment(client, park, photo)
    location = create_upload(client, park, attachment_id, len(photo)).headers["Location"]
    assert client.delete(location, headers=park.headers | TUS).status_code == 204
    assert client.head(location, headers=park.headers | TUS).status_code == 404
    assert attachment_state(db, attachment_id) == "expected"
    location = create_upload(client, park, attachment_id, len(photo)).headers["Location"]
    db.execute(update(Upload).values(expires_at=utcnow() - timedelta(minutes=1)))
    db.commit()
    assert client.head(location, headers=park.headers | TUS).status_code == 410


def test_a_tus_client_library_uploads_unchanged(live_server, tmp_path):
    """tuspy, someone else's tus client, against the real server process."""
    code = subprocess.run(
        [BIN / "rangersync", "device", "enrol", "--area", "demo", "--user", "chausiku"],
        env=live_server.env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    token = live_server.http.json("POST", "/api/v1/devices/enrol", {"code": code})[1]["token"]
    photo = _jpeg()
    report, attachment_id = h.report(), h.rid()
    declaration = {
        "kind": "attachment",
        "id": attachment_id,
        "data": {
            "report_id": report["id"],
            "sha256": hashlib.sha256(photo).hexdigest(),
            "size_bytes": len(photo),
            "media_type": "image/jpeg",
        },
    }
    body = json.dumps(
        {"device_time": datetime.now(UTC).isoformat(), "records": [report, declaration]}
    )
    headers = {
        "Authorization": f"Bearer {token}",
        "RangerSync-Protocol": "1",
        "Content-Type": "application/json",
    }
    request = urllib.request.Request(  # noqa: S310 (loopback)
        live_server.url + "/api/v1/sync/push", data=body.encode(), headers=headers
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        assert [r["verdict"] for r in json.loads(response.read())["results"]] == [
            "stored",
            "stored",
        ]
    uploader = tus.TusClient(
        live_server.url + "/api/v1/uploads", headers={"Authorization": f"Bearer {token}"}
    ).uploader(
        file_stream=io.BytesIO(photo),
        chunk_size=64 * 1024,
        metadata={"attachment_id": attachment_id},
        upload_checksum=True,
    )
    uploader.upload()
    assert uploader.offset == len(photo)
    with psycopg.connect(live_server.env["DATABASE_URL"].replace("+psycopg", "")) as conn:
        state = conn.execute(
            "SELECT state FROM attachments WHERE id = %s", (attachment_id,)
        ).fetchone()[0]
    assert state == "stored"


def test_abandoned_uploads_are_cleaned_up(client, db, app):
    from server.evidence.service import purge_expired

    park = h.park(db)
    photo = _jpeg()
    attachment_id = declare_attachment(client, park, photo)
    location = create_upload(client, park, attachment_id, len(photo)).headers["Location"]
    patch_upload(client, park, location, 0, photo[:1000])
    store = app.extensions["rangersync"].evidence
    upload_id = location.rsplit("/", 1)[1]
    assert store.partial(upload_id).stat().st_size == 1000
    db.execute(update(Upload).values(expires_at=utcnow() - timedelta(minutes=1)))
    assert purge_expired(db, store) == 1
    assert not store.partial(upload_id).exists()
    assert attachment_state(db, attachment_id) == "expected"


def test_the_worker_purges_abandoned_uploads_every_hour(
    committed_client, committed_db, fresh_engine, test_config
):
    """The same purge, as the periodic task `rangersync worker` runs at minute 17 of each hour."""
    from server import worker
    from server.evidence.storage import FileStore

    client, db = committed_client, committed_db
    park = h.park(db)
    photo = _jpeg()
    attachment_id = declare_attachment(client, park, photo)
    location = create_upload(client, park, attachment_id, len(photo)).headers["Location"]
    patch_upload(client, park, location, 0, photo[:1000])
    db.execute(update(Upload).values(expires_at=utcnow() - timedelta(minutes=1)))
    db.commit()
    app = worker.build(test_config, fresh_engine, str(fresh_engine.url))
    task = app.tasks["purge_expired_uploads"]
    assert [p.cron for p in app.periodic_registry.periodic_tasks.values() if p.task is task] == [
        "17 * * * *"
    ]
    assert task(timestamp=0) == 1
    assert not FileStore(test_config.evidence_dir).partial(location.rsplit("/", 1)[1]).exists()
    db.expire_all()
    assert attachment_state(db, attachment_id) == "expected"


def test_only_the_uploader_or_a_manager_may_touch_an_upload(client, db):
    park = h.park(db)
    other_ranger = factories.user(db, park.area_id, "ranger")
    other_device = factories.device(db, park.area_id, other_ranger.username)
    manager = factories.user(db, park.area_id, "manager")
    db.commit()
    intruders = {
        "another ranger's device": h.Park(
            park.area_id,
            park.slug,
            other_ranger.username,
            other_device.device_id,
            other_device.token,
        ).headers,
        "another ranger": factories.auth(factories.token(client, other_ranger.username)),
    }
    photo = _jpeg()
    attachment_id = declare_attachment(client, park, photo)
    location = create_upload(client, park, attachment_id, len(photo)).headers["Location"]
    assert patch_upload(client, park, location, 0, photo[:1000]).status_code == 204

    for who, headers in intruders.items():
        chunk = client.patch(
            location,
            data=photo[1000:],
            headers=headers
            | TUS
            | {"Content-Type": "application/offset+octet-stream", "Upload-Offset": "1000"},
        )
        assert chunk.status_code == 403, who
        assert client.delete(location, headers=headers | TUS).status_code == 403, who

    assert client.head(location, headers=park.headers | TUS).headers["Upload-Offset"] == "1000"
    boss = factories.auth(factories.token(client, manager.username))
    assert client.delete(location, headers=boss | TUS).status_code == 204
