"""The reference device client: what a handheld runs, as the executable specification of the
protocol (docs/sync-protocol.md).

Everything a ranger records goes into a local SQLite outbox first. `sync()` pushes it in batches
sized for a slow link, retries what got no answer (exponential backoff with jitter), marks each
record by its verdict, then pulls the scope page by page, applying each page before it stores
the cursor. Unsynced data is never deleted: not on logout, not on user switch, not on revocation.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import random
import re
import sqlite3
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from sync.device.http import Answer, Checks, NoAnswer, digits, exchange
from sync.device.receipts import ReceiptRefused, verify_receipt
from sync.protocol import PROTOCOL_HEADER, PROTOCOL_VERSION, SENT_AT_HEADER
from sync.protocol import sos as sos_text
from sync.protocol.tracks import Fix, encode

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, data TEXT NOT NULL, created_at TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',          -- pending, synced, needs_attention
    verdict TEXT, code TEXT, detail TEXT, ordinal INTEGER NOT NULL,
    token TEXT                                      -- the account that made it sends it
);
CREATE TABLE IF NOT EXISTS fixes (
    patrol_id TEXT NOT NULL, seq INTEGER NOT NULL, lon REAL NOT NULL, lat REAL NOT NULL,
    time TEXT NOT NULL, accuracy REAL, chunked INTEGER NOT NULL DEFAULT 0, token TEXT,
    PRIMARY KEY (patrol_id, seq)
);
CREATE TABLE IF NOT EXISTS scope (kind TEXT NOT NULL, id TEXT NOT NULL, data TEXT NOT NULL,
                                  PRIMARY KEY (kind, id));
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS evidence (
    attachment_id TEXT PRIMARY KEY, content BLOB NOT NULL, upload_url TEXT,
    uploaded INTEGER NOT NULL DEFAULT 0,
    error TEXT                                      -- why the server refused the file
);
CREATE TABLE IF NOT EXISTS receipts (               -- the server's signed word for each file
    attachment_id TEXT PRIMARY KEY, receipt TEXT NOT NULL,
    verified INTEGER NOT NULL, problem TEXT         -- problem: why it was refused
);
"""
# where a created upload lives: a Location cut short would not end in a whole id
UPLOAD_URL = re.compile(
    r"/api/v1/uploads/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
)
RETRYABLE_STATUS = {408, 423, 425, 429, 500, 502, 503, 504}
# A push refused as a whole for what it carries (no JSON, too large, not the envelope's shape):
# some record in it is at fault, and a smaller batch without it will go through.
BATCH_REFUSED_STATUS = {400, 413, 422}
MAX_BUSY_ANSWERS = 100  # "busy, retry after N s" answers taken in a row before giving up


class NotSignedIn(Exception):
    """Recording needs a signed-in ranger; what is already recorded stays and still syncs."""


class SyncRefused(Exception):
    """The server said no in a way retrying will not change (revoked, too old, bad request)."""

    def __init__(self, status: int, problem: dict) -> None:
        super().__init__(f"{status} {problem.get('type')}: {problem.get('detail')}")
        self.status = status
        self.problem = problem


@dataclass
class SyncReport:
    pushed: dict[str, int] = field(default_factory=dict)
    pulled: int = 0
    uploaded: int = 0
    attempts: int = 0
    receipts: int = 0  # receipts received and verified


@dataclass
class SosOutcome:
    counter: int
    channel: str  # "http": the server answered; "text": send `message` by SMS or satellite
    answer: dict | None
    message: str  # the signed text form, always made
    text: str | None  # the ranger's words as sent (cut to fit one text message)


class DeviceClient:
    def __init__(
        self,
        server_url: str,
        token: str | None,
        outbox: Path,
        *,
        max_records_per_push: int = 200,
        chunk_size: int = 480,
        retries: int = 8,
        backoff_s: float = 0.5,
        timeout_s: float = 30.0,
        upload_chunk: int = 256 * 1024,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        observe: Callable[[str, str, int | None, float], None] | None = None,
    ) -> None:
        self.server_url = server_url.rstrip("/")
        self.db = sqlite3.connect(outbox, isolation_level=None)
        self.db.executescript(SCHEMA)
        for table in ("outbox", "fixes"):  # an outbox made before records carried their account
            columns = {row[1] for row in self.db.execute(f"PRAGMA table_info({table})")}
            if "token" not in columns:
                self.db.execute(f"ALTER TABLE {table} ADD COLUMN token TEXT")
        self.token = self._renewed(token)
        self.max_records = max_records_per_push
        self.chunk_size = chunk_size
        self.retries = retries
        self.backoff_s = backoff_s
        self.timeout_s = timeout_s
        self.upload_chunk = upload_chunk
        self.sleep = sleep
        self.rng = rng or random.Random()  # noqa: S311 (jitter, not a secret)
        # told of every request: (method, URL, status or None for no answer, seconds taken)
        self.observe = observe or (lambda method, url, status, seconds: None)

    # --- who is signed in --------------------------------------------------------------------

    def sign_out(self) -> None:
        """The ranger signs out. Nothing recorded is deleted: each record keeps the account that
        made it and is still sent with that account's token at the next sync."""
        self.token = None

    def sign_in(self, token: str) -> None:
        """Another (or the same) ranger signs in; what others recorded stays theirs."""
        self.token = self._renewed(token)

    def _renewed(self, token: str | None) -> str | None:
        """The token `token` was renewed into by the server (following renewals), or itself: an
        app restarted with the token it was enrolled with still finds the current one."""
        seen = set()
        while token is not None and token not in seen:
            seen.add(token)
            newer = self._state("renewed:" + _account(token))
            if newer is None:
                return token
            token = newer
        return token

    def _adopt(self, renewed: dict[str, str]) -> None:
        """The server renewed the signed-in device's token (in a pull answer): from now on it is
        the token, also for what waits in the outbox under the old one; the pulled copy stays."""
        old, new = self._signed_in(), renewed["token"]
        with self.db:
            for table in ("outbox", "fixes"):
                self.db.execute(f"UPDATE {table} SET token = ? WHERE token = ?", (new, old))  # noqa: S608 (our table names)
            self.db.execute(
                "INSERT OR REPLACE INTO state (key, value) VALUES (?, ?)",
                ("renewed:" + _account(old), new),
            )
            self.db.execute(
                "UPDATE state SET value = ? WHERE key = 'scope_account' AND value = ?",
                (_account(new), _account(old)),
            )
        self.token = new

    def _signed_in(self) -> str:
        if self.token is None:
            raise NotSignedIn("sign in before recording; what is recorded is kept")
        return self.token

    # --- recording (offline) ----------------------------------------------------------------

    def _add(
        self, kind: str, data: dict, record_id: str | None = None, token: str | None = None
    ) -> str:
        record_id = record_id or str(uuid.uuid4())
        token = token or self._signed_in()
        with self.db:
            (ordinal,) = self.db.execute(
                "SELECT coalesce(max(ordinal), 0) + 1 FROM outbox"
            ).fetchone()
            self.db.execute(
                "INSERT INTO outbox (id, kind, data, created_at, ordinal, token)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (record_id, kind, json.dumps(data), _now(), ordinal, token),
            )
        return record_id

    def start_patrol(
        self, patrol_type: str = "foot", started_at: datetime | None = None, **data
    ) -> str:
        started = (started_at or datetime.now(UTC)).isoformat()
        return self._add("patrol", {"patrol_type": patrol_type, "started_at": started, **data})

    def record_fix(self, patrol_id: str, fix: Fix) -> int:
        with self.db:
            (seq,) = self.db.execute(
                "SELECT coalesce(max(seq) + 1, 0) FROM fixes WHERE patrol_id = ?", (patrol_id,)
            ).fetchone()
            self.db.execute(
                "INSERT INTO fixes (patrol_id, seq, lon, lat, time, accuracy, token)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    patrol_id,
                    seq,
                    fix.lon,
                    fix.lat,
                    fix.time.isoformat(),
                    fix.accuracy_m,
                    self._signed_in(),
                ),
            )
        return seq

    def record_report(self, category: str, geometry: dict, observed_at: datetime, **data) -> str:
        return self._add(
            "report",
            {
                "category": category,
                "geometry": geometry,
                "observed_at": observed_at.isoformat(),
                **data,
            },
        )

    def record_seizure(self, seized_at: datetime, geometry: dict, items: list[dict], **data) -> str:
        """What was seized (schemas/seizures.py): created once, like a report."""
        body = {"seized_at": seized_at.isoformat(), "geometry": geometry, "items": items}
        return self._add("seizure", body | data)

    def declare_attachment(self, report_id: str, content: bytes, media_type: str) -> str:
        """A photo (or other evidence) of a report; its bytes go up after the declaration is
        stored, by resumable upload, and stay on the device until the server has them all."""
        data = {
            "report_id": report_id,
            "sha256": hashlib.sha256(content).hexdigest(),
            "size_bytes": len(content),
            "media_type": media_type,
        }
        attachment_id = self._add("attachment", data)
        with self.db:
            self.db.execute(
                "INSERT INTO evidence (attachment_id, content) VALUES (?, ?)",
                (attachment_id, content),
            )
        return attachment_id

    def edit(self, target: str, target_id: str, base_version: int, changes: dict) -> str:
        data = {
            "target": target,
            "target_id": target_id,
            "base_version": base_version,
            "changes": changes,
        }
        return self._add("edit", data)

    def outbox_counts(self) -> tuple[int, int]:
        """(records made, records the server acknowledged) — rejected ones are not."""
        return self.db.execute(
            "SELECT count(*), count(*) FILTER (WHERE state = 'synced') FROM outbox"
        ).fetchone()

    def evidence_counts(self) -> tuple[int, int]:
        """(evidence files taken, files the server holds)."""
        return self.db.execute(
            "SELECT count(*), coalesce(sum(uploaded), 0) FROM evidence"
        ).fetchone()

    def patrol_records(self, patrol_id: str) -> list[tuple[str, str, str | None, str | None]]:
        """The patrol's record and its track chunks as the server answered them:
        (kind, state, code, detail) each, state 'pending', 'synced' or 'needs_attention'."""
        return self.db.execute(
            "SELECT kind, state, code, detail FROM outbox WHERE id = ?"
            " OR (kind = 'track_chunk' AND json_extract(data, '$.patrol_id') = ?) ORDER BY ordinal",
            (patrol_id, patrol_id),
        ).fetchall()

    def pending(self) -> int:
        (records,) = self.db.execute(
            "SELECT count(*) FROM outbox WHERE state = 'pending'"
        ).fetchone()
        (fixes,) = self.db.execute("SELECT count(*) FROM fixes WHERE chunked = 0").fetchone()
        (files,) = self.db.execute("SELECT count(*) FROM evidence WHERE uploaded = 0").fetchone()
        return records + fixes + files

    # --- sync (online) ----------------------------------------------------------------------

    def sync(self) -> SyncReport:
        """Push every account's pending records with its own token (the signed-in ranger's
        last), upload evidence, then pull for the signed-in ranger. An account the server
        refuses (revoked, disabled) keeps its records and does not stop the others; the first
        refusal is raised at the end."""
        report = SyncReport()
        self._chunk_fixes()
        refused: list[SyncRefused] = []
        for token in self._accounts_with_pending():
            try:
                while batch := self._next_batch(token):
                    self._push(batch, report, token)
                self._upload_evidence(report, token)
                self._collect_receipts(report, token)
            except SyncRefused as refusal:
                if token == self.token or refusal.status not in (401, 403):
                    raise
                refused.append(refusal)
        if self.token is not None:
            report.pulled = self._pull(report)
        if refused:
            raise refused[0]
        return report

    def _accounts_with_pending(self) -> list[str]:
        tokens = [
            t
            for (t,) in self.db.execute(
                "SELECT DISTINCT coalesce(o.token, ?) FROM outbox o LEFT JOIN evidence e"
                " ON e.attachment_id = o.id WHERE o.state = 'pending'"
                " OR (e.uploaded = 0 AND e.error IS NULL AND o.state = 'synced')",
                (self.token,),
            )
            if t is not None
        ]
        return sorted(tokens, key=lambda t: t == self.token)  # the signed-in account last

    def _chunk_fixes(self) -> None:
        """Fixes not yet in a chunk become chunk records in the outbox, in one transaction."""
        patrols = self.db.execute(
            "SELECT DISTINCT patrol_id, token FROM fixes WHERE chunked = 0"
        ).fetchall()
        with self.db:
            for patrol_id, token in patrols:
                rows = self.db.execute(
                    "SELECT seq, lon, lat, time, accuracy FROM fixes"
                    " WHERE patrol_id = ? AND token IS ? AND chunked = 0 ORDER BY seq",
                    (patrol_id, token),
                ).fetchall()
                for run in _consecutive(rows, self.chunk_size):
                    fixes = [
                        Fix(lon, lat, datetime.fromisoformat(t), acc) for _, lon, lat, t, acc in run
                    ]
                    self._add("track_chunk", encode(patrol_id, run[0][0], fixes), token=token)
                self.db.execute(
                    "UPDATE fixes SET chunked = 1 WHERE patrol_id = ? AND token IS ?"
                    " AND chunked = 0",
                    (patrol_id, token),
                )

    def _next_batch(self, token: str) -> list[tuple[str, str, str]]:
        return self.db.execute(
            "SELECT id, kind, data FROM outbox WHERE state = 'pending'"
            " AND coalesce(token, ?) = ? ORDER BY ordinal LIMIT ?",
            (self.token, token, self.max_records),
        ).fetchall()

    def _push(self, batch: list[tuple[str, str, str]], report: SyncReport, token: str) -> None:
        """Push a batch; one the server refuses whole is halved (in outbox order, so a patrol
        still goes before its fixes) until the record at fault is alone, and that record is set
        aside with the server's reason: one bad record never wedges the outbox."""
        try:
            body = self._push_body(batch)
            answer = self._request("POST", "/api/v1/sync/push", body, report, token=token)
        except SyncRefused as refusal:
            if not _records_at_fault(refusal):
                raise
            if len(batch) == 1:
                self._set_aside(batch[0][0], refusal, report)
                return
            half = len(batch) // 2
            self._push(batch[:half], report, token)
            self._push(batch[half:], report, token)
            return
        self._apply_verdicts(answer["results"], report)

    def _set_aside(self, record_id: str, refusal: SyncRefused, report: SyncReport) -> None:
        report.pushed["rejected"] = report.pushed.get("rejected", 0) + 1
        with self.db:
            self.db.execute(
                "UPDATE outbox SET state = 'needs_attention', verdict = 'rejected', code = ?,"
                " detail = ? WHERE id = ?",
                (refusal.problem.get("type"), refusal.problem.get("detail"), record_id),
            )

    def _push_body(self, batch) -> bytes:
        records = [{"kind": kind, "id": rid, "data": json.loads(data)} for rid, kind, data in batch]
        return json.dumps({"device_time": _now(), "records": records}).encode()

    def _apply_verdicts(self, results: list[dict], report: SyncReport) -> None:
        with self.db:
            for result in results:
                verdict = result["verdict"]
                report.pushed[verdict] = report.pushed.get(verdict, 0) + 1
                state = "needs_attention" if verdict == "rejected" else "synced"
                self.db.execute(
                    "UPDATE outbox SET state = ?, verdict = ?, code = ?, detail = ? WHERE id = ?",
                    (state, verdict, result.get("code"), result.get("detail"), result["id"]),
                )

    def _upload_evidence(self, report: SyncReport, token: str) -> None:
        """tus: create the upload once, then ask the server where it stands and send the rest.
        A file the server refuses (wrong hash, not the media declared) is marked with the
        reason and kept; the other files still go up."""
        waiting = self.db.execute(
            "SELECT e.attachment_id FROM evidence e JOIN outbox o ON o.id = e.attachment_id"
            " WHERE e.uploaded = 0 AND e.error IS NULL AND o.state = 'synced'"
            " AND coalesce(o.token, ?) = ?",
            (self.token, token),
        ).fetchall()
        for (attachment_id,) in waiting:
            content, url = self.db.execute(
                "SELECT content, upload_url FROM evidence WHERE attachment_id = ?",
                (attachment_id,),
            ).fetchone()
            try:
                try:
                    self._upload_one(attachment_id, content, url, report, token)
                except SyncRefused as refused:
                    if url is None or refused.status not in (404, 410):
                        raise
                    # the upload expired on the server: start a new one
                    self._upload_one(attachment_id, content, None, report, token)
            except SyncRefused as refused:
                if refused.status in (401, 403, 426):
                    raise  # the device itself is refused: stop syncing
                with self.db:
                    self.db.execute(
                        "UPDATE evidence SET error = ? WHERE attachment_id = ?",
                        (str(refused), attachment_id),
                    )

    def _upload_one(
        self, attachment_id: str, content: bytes, url: str | None, report, token: str
    ) -> None:
        if url is None:
            metadata = "attachment_id " + base64.b64encode(attachment_id.encode()).decode()
            headers = {"Upload-Length": str(len(content)), "Upload-Metadata": metadata}
            created = self._tus_answer(
                "POST", self.server_url + "/api/v1/uploads", headers, report, token=token
            )
            if created.status == 409:
                problem = _problem(created) or {}
                if not problem.get("stored"):
                    raise SyncRefused(409, problem)
                self._mark_uploaded(attachment_id, report)  # an earlier attempt finished it
                return
            url = created.headers["Location"]
            with self.db:
                self.db.execute(
                    "UPDATE evidence SET upload_url = ? WHERE attachment_id = ?",
                    (url, attachment_id),
                )
        self._send_rest(url, content, report, token)
        self._mark_uploaded(attachment_id, report)

    def _send_rest(self, url: str, content: bytes, report: SyncReport, token: str) -> None:
        """Ask the server where the upload stands, send the next chunk from there, repeat.

        A dropped PATCH is not retried as it was: the server kept what arrived, so the client
        asks again (HEAD, which waits for the broken PATCH to end) and sends only the rest.
        """
        offset = int(
            self._tus_answer("HEAD", url, {}, report, token=token).headers["Upload-Offset"]
        )
        failures = 0
        while offset < len(content):
            headers = {
                "Upload-Offset": str(offset),
                "Content-Type": "application/offset+octet-stream",
            }
            piece = content[offset : offset + self.upload_chunk]
            answer = self._tus("PATCH", url, headers, report, piece, retry=False, token=token)
            if answer is not None and answer.status == 204:
                offset, failures = int(answer.headers["Upload-Offset"]), 0
                continue
            if answer is None:  # no answer: the link dropped
                failures += 1
                if failures > self.retries:
                    raise ConnectionError(f"upload of {url} failed {failures} times in a row")
                self._pause(failures)
            before = offset
            head = self._tus_answer("HEAD", url, {}, report, token=token)
            offset = int(head.headers["Upload-Offset"])
            if offset > before:
                failures = 0  # the link drops but bytes get through: no reason to slow down

    def _collect_receipts(self, report: SyncReport, token: str) -> None:
        """Ask for the signed receipt of every file the server holds and has not yet vouched
        for, check it against the file and the server's published keys, and keep it. A receipt
        that does not hold is kept apart with why (the device's file stays the proof)."""
        waiting = self.db.execute(
            "SELECT e.attachment_id, e.content FROM evidence e JOIN outbox o"
            " ON o.id = e.attachment_id LEFT JOIN receipts r ON r.attachment_id = e.attachment_id"
            " WHERE e.uploaded = 1 AND r.attachment_id IS NULL AND coalesce(o.token, ?) = ?",
            (self.token, token),
        ).fetchall()
        if not waiting:
            return
        keys = cast(
            list[dict], self._request("GET", "/api/v1/evidence/keys", None, report, token=token)
        )
        for attachment_id, content in waiting:
            path = f"/api/v1/attachments/{attachment_id}/receipt"
            try:
                receipt = self._request("GET", path, None, report, token=token)
            except SyncRefused as refused:
                if refused.status == 404:
                    continue  # not stored yet: asked again at the next sync
                raise
            try:
                verify_receipt(
                    receipt,
                    keys,
                    attachment_id=attachment_id,
                    sha256=hashlib.sha256(content).hexdigest(),
                    size_bytes=len(content),
                )
                problem = None
            except ReceiptRefused as refusal:
                problem = str(refusal)
            with self.db:
                self.db.execute(
                    "INSERT OR REPLACE INTO receipts (attachment_id, receipt, verified, problem)"
                    " VALUES (?, ?, ?, ?)",
                    (attachment_id, json.dumps(receipt), int(problem is None), problem),
                )
            report.receipts += problem is None

    def receipt_counts(self) -> tuple[int, int]:
        """(receipts the server sent, receipts that verified)."""
        return self.db.execute(
            "SELECT count(*), coalesce(sum(verified), 0) FROM receipts"
        ).fetchone()

    def receipt(self, attachment_id: str) -> tuple[dict, bool, str | None] | None:
        """(the receipt, whether it verified, why not) of a file, once the server has sent it."""
        row = self.db.execute(
            "SELECT receipt, verified, problem FROM receipts WHERE attachment_id = ?",
            (attachment_id,),
        ).fetchone()
        return (json.loads(row[0]), bool(row[1]), row[2]) if row else None

    def _mark_uploaded(self, attachment_id: str, report: SyncReport) -> None:
        with self.db:
            self.db.execute(
                "UPDATE evidence SET uploaded = 1 WHERE attachment_id = ?", (attachment_id,)
            )
        report.uploaded += 1

    def _tus_answer(
        self, method: str, url: str, headers: dict, report: SyncReport, *, token: str
    ) -> Answer:
        """A tus request retried until answered (NoAnswer when the retries run out)."""
        answer = self._tus(method, url, headers, report, token=token)
        if answer is None:  # only a request sent with retry=False goes unanswered
            raise NoAnswer(f"{method} {url}: no answer")
        return answer

    def _tus(
        self,
        method: str,
        url: str,
        headers: dict,
        report: SyncReport,
        body: bytes | None = None,
        *,
        retry: bool = True,
        token: str | None = None,
    ) -> Answer | None:
        """One tus request, retried like every other unless `retry` is off (then None means
        no answer); a 409 (offset moved, or file already stored) is for the caller. An answer
        without the header tus promises (Upload-Offset, Location) was cut short: no answer."""
        require: Checks = {"Upload-Offset": digits} if method in ("HEAD", "PATCH") else {}
        if method == "POST":
            require = {"Location": lambda v: UPLOAD_URL.search(v) is not None}
        failures = busy = 0
        while True:
            report.attempts += 1
            request = urllib.request.Request(url, data=body, method=method)  # noqa: S310
            headers = {
                "Authorization": f"Bearer {token or self.token}",
                "Tus-Resumable": "1.0.0",
                **headers,
            }
            for name, value in headers.items():
                request.add_header(name, value)
            began = time.monotonic()
            try:
                answer = exchange(request, self.timeout_s, require)
            except NoAnswer:
                self.observe(method, url, None, time.monotonic() - began)
                if not retry:
                    return None
                if failures == self.retries:
                    raise
            else:
                self.observe(method, url, answer.status, time.monotonic() - began)
                if answer.status < 400:
                    return answer
                if answer.status == 409 and method in ("PATCH", "POST"):
                    if _problem(answer) is not None:
                        return answer
                    # a 409 whose explanation was cut short: no answer
                    if not retry:
                        return None
                    if failures == self.retries:
                        raise NoAnswer(f"{method} {url}: 409 without a whole explanation")
                elif self._told_to_wait(answer, busy):
                    busy += 1
                    continue
                elif answer.status not in RETRYABLE_STATUS or failures == self.retries:
                    raise SyncRefused(answer.status, _problem_or_text(answer))
            failures += 1
            self._pause(failures)

    def _pause(self, failures: int) -> None:
        """Exponential backoff with jitter: base × 2^(failures-1), capped at a minute."""
        self.sleep(min(self.backoff_s * 2 ** (failures - 1), 60.0) * (0.5 + self.rng.random()))

    def _told_to_wait(self, error: Answer, busy: int) -> bool:
        """A busy server (423/429/503 with Retry-After) says when to come back: wait that long,
        plus up to half again of jitter so a crowd does not return at once. (Growing the wait
        beyond what the server asks leaves it idle while devices sleep: measured with
        bench/storm.py.) Being told to wait is not a failure of the link: it does not spend the
        retry budget (up to MAX_BUSY_ANSWERS in a row)."""
        wait = _retry_after(error)
        if error.status not in RETRYABLE_STATUS or not wait or busy >= MAX_BUSY_ANSWERS:
            return False
        self.sleep(wait * (1 + 0.5 * self.rng.random()))
        return True

    def _pull(self, report: SyncReport) -> int:
        """Pages of changes since the cursor, each applied with its cursor in one transaction.
        The scope is what the server shows the signed-in ranger: when another ranger signs in,
        the copy (server data, never unsynced records) is dropped and pulled afresh."""
        account = _account(self._signed_in())
        if self._state("scope_account") != account:
            with self.db:
                self.db.execute("DELETE FROM scope")
                self.db.execute("DELETE FROM state WHERE key = 'cursor'")
                self.db.execute(
                    "INSERT OR REPLACE INTO state (key, value) VALUES ('scope_account', ?)",
                    (account,),
                )
        applied = 0
        while True:
            cursor = self._state("cursor")
            path = "/api/v1/sync/pull" + (f"?cursor={cursor}" if cursor else "")
            page = self._request("GET", path, None, report)
            if renewed := page.get("renewed_token"):
                self._adopt(renewed)
            with self.db:  # the page and its cursor together, or neither
                for change in page["changes"]:
                    if change["deleted"]:
                        self.db.execute(
                            "DELETE FROM scope WHERE kind = ? AND id = ?",
                            (change["kind"], change["id"]),
                        )
                    else:
                        self.db.execute(
                            "INSERT OR REPLACE INTO scope (kind, id, data) VALUES (?, ?, ?)",
                            (change["kind"], change["id"], json.dumps(change["data"])),
                        )
                self.db.execute(
                    "INSERT OR REPLACE INTO state (key, value) VALUES ('cursor', ?)",
                    (page["cursor"],),
                )
            applied += len(page["changes"])
            if not page["more"]:
                return applied

    def _state(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def scope(self, kind: str) -> dict[str, Any]:
        return {
            i: json.loads(d)
            for i, d in self.db.execute("SELECT id, data FROM scope WHERE kind = ?", (kind,))
        }

    def _request(
        self,
        method: str,
        path: str,
        body: bytes | None,
        report: SyncReport,
        *,
        token: str | None = None,
    ) -> dict:
        """One request, retried on no answer (a cut connection, a timeout, an answer cut short
        or garbled anywhere: sync/device/http.py) and on 5xx, with exponential backoff and
        jitter. When the retries run out, NoAnswer (a ConnectionError) is raised."""
        failures = busy = 0
        while True:
            report.attempts += 1
            request = urllib.request.Request(self.server_url + path, method=method)  # noqa: S310
            request.add_header("Authorization", f"Bearer {token or self.token}")
            request.add_header(PROTOCOL_HEADER, str(PROTOCOL_VERSION))
            # the clock as sending starts: the server leaves the transfer out of the skew
            request.add_header(SENT_AT_HEADER, _now())
            if body is not None:
                request.data = gzip.compress(body)
                request.add_header("Content-Type", "application/json")
                request.add_header("Content-Encoding", "gzip")
            began = time.monotonic()
            try:
                answer = exchange(request, self.timeout_s)
                result: Any = answer.json() if answer.status < 400 else None
            except NoAnswer:
                self.observe(method, path, None, time.monotonic() - began)
                if failures == self.retries:
                    raise
            else:
                self.observe(method, path, answer.status, time.monotonic() - began)
                if answer.status < 400:
                    return result
                if self._told_to_wait(answer, busy):
                    busy += 1
                    continue
                problem = _problem(answer)
                if problem is None and failures < self.retries:
                    pass  # an error whose explanation was cut short: ask again
                elif answer.status not in RETRYABLE_STATUS or failures == self.retries:
                    raise SyncRefused(answer.status, problem or _problem_or_text(answer))
            failures += 1
            self._pause(failures)

    # --- safety: SOS and alert acknowledgements ---------------------------------------------

    def send_sos(
        self,
        device_id: str,
        lon: float,
        lat: float,
        text: str | None = None,
        at: datetime | None = None,
        attempts: int = 2,
    ) -> SosOutcome:
        """Raise an SOS: over data if an answer comes within a couple of tries, otherwise the
        signed text message for the SMS app or satellite messenger to send (sync/protocol/sos.py).
        Both carry the same counter, so sending both is still one SOS on the server."""

        with self.db:
            counter = int(self._state("sos_counter") or 0) + 1
            self.db.execute(
                "INSERT OR REPLACE INTO state (key, value) VALUES ('sos_counter', ?)",
                (str(counter),),
            )
        at = (at or datetime.now(UTC)).replace(microsecond=0)
        if text is not None:  # cut to what one text message holds, and say so in the outcome
            room = sos_text.room_for_text(device_id, counter, lat, lon, at)
            text = text.strip()[:room].strip() or None
        message = sos_text.encode(
            sos_text.key_from_token(self._signed_in()), device_id, counter, lat, lon, at, text
        )
        where = {"type": "Point", "coordinates": [round(lon, 5), round(lat, 5)]}
        body = {"counter": counter, "sent_at": at.isoformat(), "text": text, "position": where}
        retries, self.retries = self.retries, max(0, attempts - 1)
        try:
            answer = self._request("POST", "/api/v1/sos", json.dumps(body).encode(), SyncReport())
            return SosOutcome(counter, "http", answer, message, text)
        except (SyncRefused, OSError):  # refused, or no answer in time (NoAnswer)
            return SosOutcome(counter, "text", None, message, text)
        finally:
            self.retries = retries

    def acknowledge_alert(self, alert_id: str) -> dict:
        """Tell the server this alert reached the ranger (safe to repeat)."""
        body = json.dumps({"acknowledged_at": _now()}).encode()
        return self._request("POST", f"/api/v1/alerts/{alert_id}/ack", body, SyncReport())


def _retry_after(answer: Answer) -> float:
    """Seconds the server asked us to wait (Retry-After in seconds; capped at 10 minutes)."""
    value = answer.headers.get("Retry-After", "") if answer.headers else ""
    return min(float(value), 600.0) if value.isascii() and value.isdigit() else 0.0


def _records_at_fault(refusal: SyncRefused) -> bool:
    """Whether a push refused whole was refused for a record it carries; not when the problem
    points only at the envelope (the device's clock, say), which no split would change."""
    if refusal.status not in BATCH_REFUSED_STATUS:
        return False
    pointers = refusal.problem.get("errors") or {}
    return not pointers or any(p.startswith("/records") or p == "/" for p in pointers)


def _problem(answer: Answer) -> dict | None:
    """The RFC 9457 problem an error answer carries; None when it is not whole JSON."""
    try:
        problem = json.loads(answer.body)
    except ValueError:
        return None
    return problem if isinstance(problem, dict) else None


def _problem_or_text(answer: Answer) -> dict:
    """What to show of a refusal that is not a problem document (a proxy's own error page)."""
    return _problem(answer) or {
        "type": "about:blank",
        "detail": answer.body[:200].decode("utf-8", "replace") or f"HTTP {answer.status}",
    }


def _consecutive(rows: list, size: int) -> list[list]:
    """Runs of consecutive sequence numbers, cut at `size`: a chunk never spans a gap."""
    runs: list[list] = []
    for row in rows:
        if runs and row[0] == runs[-1][-1][0] + 1 and len(runs[-1]) < size:
            runs[-1].append(row)
        else:
            runs.append([row])
    return runs


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _account(token: str) -> str:
    """A short name of a token, safe to keep: never the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()[:16]
