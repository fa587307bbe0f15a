"""What evidence uploads do (tus 1.0: creation, checksum, expiration, termination).

The server's offset is the truth: a PATCH at another offset is refused (409). A chunk whose
checksum does not match is discarded and the offset stays (460). When the last byte is in, the
whole file's SHA-256 must be the one the report declared, and its first bytes must say it is the
declared kind of media; only then does it enter content-addressed storage and the attachment
become `stored`. Bytes that arrived before a connection dropped are kept: the device resumes
from the last stored byte.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from server.core.db import utcnow
from server.core.errors import Conflict, DomainError, Forbidden, Gone, Invalid, NotFound
from server.core.policy import Action, Actor, load_in_area
from server.evidence import images
from server.evidence.models import Upload
from server.evidence.storage import FileStore
from server.reports.models import Attachment

READ_SIZE = 64 * 1024
STATE_WAIT_MS = 5000  # how long HEAD waits for a PATCH in flight
LOCK_NOT_AVAILABLE = "55P03"
CHECKSUMS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "md5": hashlib.md5}


class TooLarge(DomainError):
    status = 413
    code = "upload-too-large"
    title = "The upload is larger than allowed"


class ChecksumMismatch(DomainError):
    status = 460
    code = "checksum-mismatch"
    title = "The chunk's checksum does not match its bytes"


class WrongMedia(DomainError):
    status = 415
    code = "media-type-refused"
    title = "The file is not the media it claims to be"


class UploadBusy(DomainError):
    status = 423
    code = "upload-busy"
    title = "A chunk of this upload is still arriving"


class HashMismatch(DomainError):
    status = 422
    code = "hash-mismatch"
    title = "The file's SHA-256 is not the one the report declared"


@dataclass(frozen=True)
class UploadState:
    id: uuid.UUID
    offset: int
    length: int
    expires_at: datetime
    complete: bool


def _state(upload: Upload) -> UploadState:
    return UploadState(
        upload.id,
        upload.upload_offset,
        upload.length,
        upload.expires_at,
        upload.completed_at is not None,
    )


def sniff(head: bytes) -> str | None:
    """The media type the file's first bytes prove, among those evidence may be."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    if head.startswith(b"OggS"):
        return "audio/ogg"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"heic", b"heix", b"mif1", b"msf1"):
            return "image/heic"
        if brand in (b"M4A ", b"M4B "):
            return "audio/mp4"
        return "video/mp4"
    return None


def create(
    session: Session,
    actor: Actor,
    store: FileStore,
    attachment_id: uuid.UUID,
    length: int,
    *,
    max_bytes: int,
    ttl: timedelta,
) -> UploadState:
    attachment = load_in_area(
        session,
        actor,
        Action.REPORT_CREATE,
        Attachment,
        attachment_id,
        "attachment",
        missing="no such attachment: declare it in a push first",
    )
    if length > max_bytes:
        raise TooLarge(f"{length} bytes; this server takes at most {max_bytes}")
    if length != attachment.size_bytes:
        raise Conflict(f"Upload-Length {length} is not the declared size {attachment.size_bytes}")
    if attachment.state == "stored":
        raise Conflict("this attachment's file is already stored", extra={"stored": True})
    upload = Upload(
        area_id=attachment.area_id,
        attachment_id=attachment.id,
        device_id=actor.id if actor.kind == "device" else None,
        user_id=actor.user_id,
        length=length,
        expires_at=utcnow() + ttl,
    )
    session.add(upload)
    session.flush()
    # A new upload starts at 0, as tus clients expect, even for bytes the store already has
    # (the same photo on two reports): the store keeps them once all the same.
    store.partial(upload.id).write_bytes(b"")
    attachment.state = "uploading"
    session.flush()
    return _state(upload)


def _upload(
    session: Session, actor: Actor, upload_id: uuid.UUID, lock: str | None = None
) -> Upload:
    upload = load_in_area(
        session, actor, Action.REPORT_CREATE, Upload, upload_id, "upload", lock=lock or False
    )
    if not _may_touch(actor, upload):
        raise Forbidden("only the ranger who started this upload, or a manager, may touch it")
    if upload.completed_at is None and upload.expires_at <= utcnow():
        raise Gone("this upload expired; create a new one")
    return upload


def _may_touch(actor: Actor, upload: Upload) -> bool:
    if actor.may(Action.REPORT_TRIAGE, upload.area_id):  # a manager of the park
        return True
    if upload.user_id is not None:
        return actor.user_id == upload.user_id
    return actor.kind == "device" and actor.id == upload.device_id  # started before user_id


def state(session: Session, actor: Actor, upload_id: uuid.UUID) -> UploadState:
    """Where the upload stands. A PATCH still receiving bytes holds the upload's row; the
    answer waits for it (briefly), so a client resuming after a dropped link learns the offset
    that includes everything that arrived, not one the PATCH is about to move."""
    session.execute(text(f"SET LOCAL lock_timeout = '{STATE_WAIT_MS}ms'"))
    try:
        upload = _upload(session, actor, upload_id, lock="share")
    except OperationalError as error:
        if getattr(error.orig, "sqlstate", None) != LOCK_NOT_AVAILABLE:
            raise
        raise UploadBusy(
            "a chunk of this upload is still arriving; ask again shortly",
            extra={"retry_after_s": 2},
        ) from None
    return _state(upload)


def append(
    session: Session,
    actor: Actor,
    store: FileStore,
    upload_id: uuid.UUID,
    offset: int,
    body: BinaryIO,
    declared_length: int | None,
    checksum: str | None,
    *,
    max_pixels: int,
) -> UploadState:
    upload = _upload(session, actor, upload_id, lock="update")
    if offset != upload.upload_offset:
        raise Conflict(f"the upload is at byte {upload.upload_offset}, not {offset}")
    if declared_length is not None and offset + declared_length > upload.length:
        raise TooLarge(
            f"{declared_length} more bytes would pass the upload's length {upload.length}"
        )
    digest = _checksum(checksum)
    partial = store.partial(upload.id)
    written = 0
    with open(partial, "r+b") as out:
        out.truncate(offset)  # drop anything a broken earlier write left past the offset
        out.seek(offset)
        try:
            while chunk := body.read(READ_SIZE):
                if offset + written + len(chunk) > upload.length:
                    raise TooLarge(f"the bytes pass the upload's length {upload.length}")
                out.write(chunk)
                written += len(chunk)
                if digest:
                    digest[0].update(chunk)
        except OSError:
            if digest:  # an unverifiable part: the client sends this chunk again
                out.truncate(offset)
                raise
            # The link dropped mid-chunk. What arrived is kept (tus: the server should store
            # as much as it received) and the final SHA-256 still checks the whole file.
            interrupted = True
        else:
            interrupted = False
        if digest and not interrupted and digest[0].digest() != digest[1]:
            out.truncate(offset)
            raise ChecksumMismatch("the chunk was discarded; the offset did not move")
    upload.upload_offset = offset + written
    if upload.upload_offset == upload.length:
        _finish(session, store, upload, max_pixels)
    session.flush()
    return _state(upload)


def _checksum(header: str | None):
    if not header:
        return None
    algorithm, _, value = header.strip().partition(" ")
    if algorithm not in CHECKSUMS:
        raise Invalid(f"checksum algorithm {algorithm!r} is not supported: sha1, sha256, md5")
    try:
        expected = base64.b64decode(value, validate=True)
    except ValueError:
        raise Invalid("Upload-Checksum must be an algorithm and a base64 value") from None
    return CHECKSUMS[algorithm](), expected


def _finish(session: Session, store: FileStore, upload: Upload, max_pixels: int) -> None:
    attachment = session.get(Attachment, upload.attachment_id)
    partial = store.partial(upload.id)
    sha = hashlib.sha256()
    with open(partial, "rb") as f:
        head = f.read(64)
        sha.update(head)
        while chunk := f.read(1024 * 1024):
            sha.update(chunk)
    upload.completed_at = utcnow()
    if sha.hexdigest() != attachment.sha256:
        attachment.state = "failed"
        partial.unlink(missing_ok=True)
        raise HashMismatch(f"got {sha.hexdigest()}, the report declared {attachment.sha256}")
    found = sniff(head)
    if found != attachment.media_type:
        attachment.state = "failed"
        partial.unlink(missing_ok=True)
        raise WrongMedia(
            f"declared {attachment.media_type}, the bytes are "
            + (found or "no image, video or audio this server accepts")
        )
    try:
        images.check_pixels(partial, found, max_pixels)
    except images.TooManyPixels:
        attachment.state = "failed"
        partial.unlink(missing_ok=True)
        raise
    blob = store.adopt(partial, attachment.sha256)
    attachment.state, attachment.stored_at = "stored", utcnow()
    thumbnail = store.thumbnail(attachment.sha256)
    if not thumbnail.exists():
        images.make_thumbnail(blob, thumbnail, found, max_pixels)


def terminate(session: Session, actor: Actor, store: FileStore, upload_id: uuid.UUID) -> None:
    upload = _upload(session, actor, upload_id, lock="update")
    store.partial(upload.id).unlink(missing_ok=True)
    attachment = session.get(Attachment, upload.attachment_id)
    if attachment.state == "uploading":
        attachment.state = "expected"
    session.delete(upload)
    session.flush()


def purge_expired(session: Session, store: FileStore) -> int:
    """Abandoned uploads past their expiry: their partial bytes are deleted, and their
    attachments expect an upload again. Answers how many were purged."""
    expired = session.scalars(
        select(Upload)
        .where(Upload.completed_at.is_(None), Upload.expires_at <= utcnow())
        .with_for_update(skip_locked=True)
    ).all()
    for upload in expired:
        store.partial(upload.id).unlink(missing_ok=True)
        attachment = session.get(Attachment, upload.attachment_id)
        if attachment.state == "uploading":
            attachment.state = "expected"
        session.delete(upload)
    session.flush()
    return len(expired)


def evidence_file(
    session: Session, actor: Actor, store: FileStore, attachment_id: uuid.UUID, *, thumbnail: bool
) -> tuple[Path, str, str]:
    """(path, media type, ETag) of a stored evidence file or of its thumbnail."""
    attachment = load_in_area(
        session, actor, Action.EVIDENCE_VIEW, Attachment, attachment_id, "attachment"
    )
    if attachment.state != "stored":
        raise NotFound(
            f"the file has not arrived yet (it is {attachment.state})",
            extra={"state": attachment.state},
        )
    if thumbnail:
        path = store.thumbnail(attachment.sha256)
        if not path.exists():
            raise NotFound("this file has no thumbnail (not a photo the server can decode)")
        return path, "image/jpeg", attachment.sha256 + "-thumbnail"
    return store.blob(attachment.sha256), attachment.media_type, attachment.sha256


def capture_facts(
    session: Session, actor: Actor, store: FileStore, attachment_id: uuid.UUID, max_pixels: int
) -> images.CaptureFacts:
    """When and where the camera says a stored photo was taken (its EXIF), for the viewer."""
    path, media_type, _ = evidence_file(session, actor, store, attachment_id, thumbnail=False)
    return images.capture_facts(path, media_type, max_pixels)
