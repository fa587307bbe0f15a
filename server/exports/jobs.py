"""Exports as jobs: small ones are made in the request; large ones (more features than
EXPORT_STREAM_MAX_FEATURES) become a row of export_jobs and a job of the worker's `exports`
queue, in one transaction, so neither exists without the other.

The worker re-checks the requester's rights when it starts (a key revoked or a user disabled
meanwhile gets a failed job, not a file), writes under EXPORT_DIR as `<job id>.part.<suffix>`
and renames it when complete, and records the features read as it goes (progress). Files are
kept until `expires_at` (EXPORT_TTL_HOURS), then deleted by the worker's hourly purge.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session, sessionmaker

from server.accounts.models import User
from server.accounts.service import actor_for
from server.areas.models import Area
from server.core.db import utcnow
from server.core.errors import DomainError, Forbidden, Invalid, NotFound
from server.core.policy import Action, Actor, authorize
from server.exports import service
from server.exports.formats import WRITERS, writes_everything
from server.exports.models import ExportJob
from server.ogc.service import Access
from server.partners import keys

log = logging.getLogger(__name__)
QUEUE = "exports"
TASK = "export_area"
PROGRESS_EVERY_S = 1.0  # how often a running job writes its progress
SUFFIXES = {
    "gpkg": "gpkg",
    "csv": "csv",
    "geojson": "geojson",
    "gpx": "gpx",
    "kml": "kml",
    "dwca": "zip",
}
MEDIA_TYPES = {
    "gpkg": "application/geopackage+sqlite3",
    "csv": "text/csv",
    "geojson": "application/geo+json",
    "gpx": "application/gpx+xml",
    "kml": "application/vnd.google-earth.kml+xml",
    "dwca": "application/zip",
}


class NotReady(DomainError):
    status = 409
    code = "export-not-ready"
    title = "The export is not ready"


class Expired(DomainError):
    status = 410
    code = "export-expired"
    title = "The export has expired"


@dataclass(frozen=True)
class Requested:
    """What a request for an export became: made at once (`features` at most the threshold,
    the caller writes it) or a job."""

    area_slug: str
    format: str
    everything: bool
    features: int
    job: ExportJob | None = None


def file_name(area_slug: str, fmt: str) -> str:
    return f"{area_slug}-export.{SUFFIXES[fmt]}"


def _check_format(fmt: str) -> None:
    if fmt not in WRITERS:
        raise Invalid(f"unknown format {fmt!r}", errors={"format": [", ".join(WRITERS)]})


def request_export(
    session: Session,
    access: Access,
    area_slug: str,
    fmt: str,
    *,
    everything: bool = False,
    stream_max_features: int,
) -> Requested:
    """Count what the export holds (checking the caller's rights); above the threshold, queue
    a job. Partner keys never get `everything`."""
    _check_format(fmt)
    if everything and access.key_id is not None:
        raise Forbidden("a partner key exports what partners see, never everything")
    total = service.count(
        session, access, area_slug, fmt, everything=everything and writes_everything(fmt)
    )
    area_id = session.scalar(text("SELECT id FROM areas WHERE slug = :s"), {"s": area_slug})
    if everything:  # asked for, it must be allowed, even where the format leaves it out
        authorize(access.actor, Action.REPORT_TRIAGE, area_id, "area")
    if total <= stream_max_features:
        return Requested(area_slug, fmt, everything, total)
    job = ExportJob(
        id=uuid.uuid4(),
        area_id=area_id,
        format=fmt,
        everything=everything,
        requested_by=access.actor.user_id if access.key_id is None else None,
        partner_key_id=access.key_id,
        collections=sorted(access.collections) if access.collections is not None else None,
        state="queued",
        rows_total=total,
        rows_done=0,
    )
    session.add(job)
    session.flush()
    session.execute(
        text(
            """INSERT INTO procrastinate.procrastinate_jobs (queue_name, task_name, args)
               VALUES (:queue, :task, jsonb_build_object('area_id', CAST(:area AS text),
                                                         'job_id', CAST(:job AS text)))"""
        ),
        {"queue": QUEUE, "task": TASK, "area": str(area_id), "job": str(job.id)},
    )
    return Requested(area_slug, fmt, everything, total, job)


def _requester(job: ExportJob, access: Access) -> bool:
    if job.partner_key_id is not None:
        return access.key_id == job.partner_key_id
    return access.key_id is None and access.actor.user_id == job.requested_by


def get_job(session: Session, access: Access, area_slug: str, job_id: uuid.UUID) -> dict:
    """The job as its requester sees it; anyone else gets 404."""
    area_id = session.scalar(select(Area.id).where(Area.slug == area_slug))
    job = session.get(ExportJob, (area_id, job_id)) if area_id else None
    if job is None or not _requester(job, access):
        raise NotFound("no such export")
    return view(job, area_slug)


def view(job: ExportJob, area_slug: str) -> dict:
    total = job.rows_total or 0
    percent = 100.0 if job.state == "done" else 0.0
    if job.state == "running" and total:
        percent = round(min(job.rows_done, total) * 100 / total, 1)
    return {
        "id": job.id,
        "area": area_slug,
        "format": job.format,
        "everything": job.everything,
        "state": job.state,
        "progress_percent": percent,
        "rows_done": job.rows_done,
        "rows_total": job.rows_total,
        "written": job.written,
        "size_bytes": job.size_bytes,
        "error": job.error,
        "created_at": job.created_at,
        "finished_at": job.finished_at,
        "expires_at": job.expires_at,
    }


def job_file(
    session: Session, access: Access, area_slug: str, job_id: uuid.UUID, export_dir: Path
) -> tuple[Path, str, str]:
    """The finished export's file, its download name and media type; 409 before, 410 after."""
    found = get_job(session, access, area_slug, job_id)
    if found["state"] == "expired" or (
        found["expires_at"] is not None and found["expires_at"] <= utcnow()
    ):
        raise Expired("this export has expired; ask for it again")
    if found["state"] != "done":
        raise NotReady(
            f"the export is {found['state']} ({found['progress_percent']} %)",
            extra={"retry_after_s": 5} if found["state"] in ("queued", "running") else None,
        )
    path = export_dir / f"{job_id}.{SUFFIXES[found['format']]}"
    return path, file_name(area_slug, found["format"]), MEDIA_TYPES[found["format"]]


# --- the worker's side ---------------------------------------------------------------------------


def _access(session: Session, job: ExportJob) -> Access:
    """The requester's rights now, not when they asked."""
    if job.partner_key_id is not None:
        found = keys.key_access_by_id(session, job.partner_key_id)
        return Access(found.actor, found.collections, found.key_id)
    user = session.get(User, job.requested_by) if job.requested_by else None
    if user is None or user.disabled_at is not None:
        raise Forbidden("the account that asked for this export is disabled")
    actor: Actor = actor_for(session, user)
    return Access(actor)


def run(
    factory: sessionmaker,
    export_dir: Path,
    ttl_hours: int,
    area_id: uuid.UUID,
    job_id: uuid.UUID,
) -> str:
    """Make the job's export; answers its final state. Progress is written in a session of
    its own, committed as it goes, so status requests see it while the export runs. A job
    found `running` is one a dead worker left (procrastinate gave it back): it starts again."""
    export_dir.mkdir(parents=True, exist_ok=True)
    with factory() as session, factory() as progress_session:
        job = session.get(ExportJob, (area_id, job_id))
        if job is None:
            return "missing"
        if job.state not in ("queued", "running"):
            return job.state
        job.state = "running"
        session.commit()
        slug = session.scalar(text("SELECT slug FROM areas WHERE id = :a"), {"a": job.area_id})
        part = export_dir / f"{job.id}.part.{SUFFIXES[job.format]}"  # GDAL reads the suffix
        last = [0.0]

        def progress(rows: int) -> None:
            now = time.monotonic()
            if now - last[0] >= PROGRESS_EVERY_S:
                last[0] = now
                progress_session.execute(
                    update(ExportJob).where(ExportJob.id == job_id).values(rows_done=rows)
                )
                progress_session.commit()

        try:
            access = _access(session, job)
            if job.collections is not None and access.collections is not None:
                access = Access(
                    access.actor, access.collections & set(job.collections), access.key_id
                )
            written = service.export(
                session,
                access,
                slug,
                job.format,
                part,
                everything=job.everything,
                progress=progress,
            )
        except DomainError as error:
            session.rollback()
            part.unlink(missing_ok=True)
            _finish(session, job_id, state="failed", error=error.detail)
            log.warning("export %s failed: %s", job_id, error.detail)
            return "failed"
        final = export_dir / f"{job.id}.{SUFFIXES[job.format]}"
        os.replace(part, final)
        session.rollback()
        _finish(
            session,
            job_id,
            state="done",
            written=written,
            size_bytes=final.stat().st_size,
            rows_done=job.rows_total or 0,
            expires_at=utcnow() + timedelta(hours=ttl_hours),
        )
        return "done"


def _finish(session: Session, job_id: uuid.UUID, **values) -> None:
    session.execute(
        update(ExportJob).where(ExportJob.id == job_id).values(finished_at=utcnow(), **values)
    )
    session.commit()


def purge_expired(factory: sessionmaker, export_dir: Path) -> int:
    """Files of exports past their expiry deleted; their jobs say `expired`."""
    with factory() as session:
        expired = list(
            session.scalars(
                update(ExportJob)
                .where(ExportJob.state == "done", ExportJob.expires_at <= utcnow())
                .values(state="expired")
                .returning(ExportJob)
            )
        )
        for job in expired:
            (export_dir / f"{job.id}.{SUFFIXES[job.format]}").unlink(missing_ok=True)
        session.commit()
    return len(expired)
