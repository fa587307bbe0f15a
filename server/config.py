"""Configuration, read once from environment variables into one immutable object.

Every variable has a safe default so that `make run` works with nothing set; the README lists them.
"""

from __future__ import annotations

import base64
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from limits import parse_many

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"rangersync: {name} must be an integer, got {raw!r}") from None


def _limits(env: dict[str, str], name: str, default: str) -> str:
    raw = env.get(name) or default
    try:
        parse_many(raw)
    except ValueError:
        raise SystemExit(
            f"rangersync: {name} must be limits such as '5/minute;20/hour', got {raw!r}"
        ) from None
    return raw


def _choice(env: dict[str, str], name: str, allowed: tuple[str, ...]) -> str:
    raw = (env.get(name) or allowed[0]).lower()
    if raw not in allowed:
        raise SystemExit(f"rangersync: {name} must be one of {', '.join(allowed)}, got {raw!r}")
    return raw


@dataclass(frozen=True)
class Config:
    var_dir: Path
    database_url: str | None  # None: use the embedded cluster under var_dir
    pg_port: int  # port of the embedded cluster, on 127.0.0.1 only
    secret_key: str
    public_url: str | None  # how devices reach this server, put in enrolment QR codes
    max_request_bytes: int
    token_ttl_hours: int
    enrolment_code_ttl_hours: int
    log_level: str
    clock_tolerance_s: int  # device clocks further off than this are flagged (never refused)
    evidence_dir: Path  # content-addressed evidence files and partial uploads
    max_upload_bytes: int
    upload_ttl_hours: int  # an upload not finished by then expires
    max_image_pixels: int  # photos whose header promises more are refused (decompression bombs)
    maps_dir: Path = Path("var/maps")  # offline map packages and parks' base maps
    tile_cache_bytes: int = 64 * 1024 * 1024  # rendered vector tiles kept per worker process
    # Ranger safety (issue 6): the SOS text webhook, the notification adapters, the worker.
    sos_webhook_token: str | None = None  # set: gateways must send it as a bearer token
    smtp_url: str | None = None  # smtp://user:pass@host:port (smtps:// for TLS, ?starttls=1)
    smtp_from: str = "rangersync@localhost"
    sms_gateway_url: str | None = None  # a generic HTTP SMS gateway: POST JSON {to, text}
    sms_gateway_token: str | None = None
    notify_max_attempts: int = 8
    notify_timeout_s: int = 20
    push_concurrency: int = 0  # pushes processed at once per app process (0: no gate)
    push_queue: int = 20  # pushes waiting for those, per process; more get 503 + Retry-After
    server_timing_log: Path | None = None  # set: per-request SQL/Python/gate times (core.timing)
    # Operations (issue 18): backups, the read replica, metrics and logs.
    backup_dir: Path = Path("var/backups")  # pgBackRest repository and file copies
    backup_retention_full: int = 2  # full backups kept (with their incrementals and WAL)
    log_format: str = "json"  # json (one object per line) or text
    silent_device_hours: int = 24  # /metrics counts devices not heard from for longer
    database_replica_url: str | None = None  # a hot standby for read-only work
    replica_max_lag_s: int = 30  # older than this, reads go to the primary
    database_pool_mode: str = "session"  # "transaction": DATABASE_URL is PgBouncer's pool
    # Evidence for court (issue 16): the Ed25519 keys that sign receipts and packages (the newest
    # signs; older ones stay published), and the Fernet keys of suspects' data (the first
    # encrypts; every one listed decrypts, so a key is rotated by putting a new one first).
    evidence_keys_dir: Path = Path("var/evidence-keys")
    suspect_data_keys: tuple[str, ...] = ()
    # Exports (issue 17): up to this many features an export is made in the request and sent
    # back; more, and it is a job for the worker, its file kept under export_dir for a while.
    export_dir: Path = Path("var/exports")
    export_stream_max_features: int = 20_000
    export_ttl_hours: int = 48
    # Throttled guessing (issue 13): failed attempts allowed, in the `limits` notation; windows
    # that grow, so that a lockout ends on its own (server/core/attempts.py).
    sign_in_limit_account: str = "5/minute;10/10 minutes;20/hour"  # per account and source
    sign_in_limit_source: str = "30/minute;100/hour"  # per source, whatever the account
    enrol_limit_source: str = "10/minute;30/hour"  # bad enrolment codes per source
    sos_text_limit_sender: str = "10/5 minutes"  # refused SOS texts per sender number
    sos_text_limit_source: str = "60/minute"  # refused SOS texts per gateway address
    # Hardening (issue 13): what one request may cost.
    read_timeout_s: int = 15  # statement_timeout of read-only views (dashboard, analytics, tiles)
    max_coverage_cells: int = 100_000  # grid cells one coverage answer (gaps, cells, tile) spans
    web_threads: int = 32  # threads per gunicorn worker process (`rangersync serve`)
    live_streams_max: int = 8  # live streams one process holds at once (default: threads / 4)
    live_streams_per_token: int = 3  # live streams one token holds at once, per process
    device_token_ttl_days: int = 30  # a device token not renewed by a sync within this expires
    trusted_proxies: int = 0  # reverse proxies in front whose X-Forwarded-* headers are believed

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Config:
        env = dict(os.environ if env is None else env)
        var_dir = Path(env.get("RANGERSYNC_VAR_DIR") or PROJECT_ROOT / "var").resolve()
        return cls(
            var_dir=var_dir,
            database_url=env.get("DATABASE_URL") or None,
            pg_port=_int(env, "RANGERSYNC_PG_PORT", 54329),
            secret_key=env.get("SECRET_KEY") or _stored_secret(var_dir),
            public_url=env.get("PUBLIC_URL") or None,
            max_request_bytes=_int(env, "MAX_REQUEST_BYTES", 16 * 1024 * 1024),
            token_ttl_hours=_int(env, "TOKEN_TTL_HOURS", 12),
            enrolment_code_ttl_hours=_int(env, "ENROLMENT_CODE_TTL_HOURS", 72),
            log_level=env.get("LOG_LEVEL", "INFO").upper(),
            clock_tolerance_s=_int(env, "CLOCK_TOLERANCE_S", 300),
            evidence_dir=Path(env.get("EVIDENCE_DIR") or var_dir / "evidence").resolve(),
            max_upload_bytes=_int(env, "MAX_UPLOAD_BYTES", 200 * 1024 * 1024),
            upload_ttl_hours=_int(env, "UPLOAD_TTL_HOURS", 72),
            max_image_pixels=_int(env, "MAX_IMAGE_PIXELS", 120_000_000),
            maps_dir=Path(env.get("MAPS_DIR") or var_dir / "maps").resolve(),
            tile_cache_bytes=_int(env, "TILE_CACHE_BYTES", 64 * 1024 * 1024),
            sos_webhook_token=env.get("SOS_WEBHOOK_TOKEN") or None,
            smtp_url=env.get("SMTP_URL") or None,
            smtp_from=env.get("SMTP_FROM") or "rangersync@localhost",
            sms_gateway_url=env.get("SMS_GATEWAY_URL") or None,
            sms_gateway_token=env.get("SMS_GATEWAY_TOKEN") or None,
            notify_max_attempts=_int(env, "NOTIFY_MAX_ATTEMPTS", 8),
            notify_timeout_s=_int(env, "NOTIFY_TIMEOUT_S", 20),
            push_concurrency=_int(env, "PUSH_CONCURRENCY", 0),
            push_queue=_int(env, "PUSH_QUEUE", 20),
            server_timing_log=Path(env["SERVER_TIMING_LOG"]).resolve()
            if env.get("SERVER_TIMING_LOG")
            else None,
            backup_dir=Path(env.get("BACKUP_DIR") or var_dir / "backups").resolve(),
            backup_retention_full=_int(env, "BACKUP_RETENTION_FULL", 2),
            log_format=_choice(env, "LOG_FORMAT", ("json", "text")),
            silent_device_hours=_int(env, "SILENT_DEVICE_HOURS", 24),
            database_replica_url=env.get("DATABASE_REPLICA_URL") or None,
            replica_max_lag_s=_int(env, "REPLICA_MAX_LAG_S", 30),
            database_pool_mode=_choice(env, "DATABASE_POOL_MODE", ("session", "transaction")),
            evidence_keys_dir=Path(
                env.get("EVIDENCE_KEYS_DIR") or var_dir / "evidence-keys"
            ).resolve(),
            suspect_data_keys=tuple(
                k.strip()
                for k in (env.get("SUSPECT_DATA_KEYS") or _stored_fernet_key(var_dir)).split(",")
                if k.strip()
            ),
            export_dir=Path(env.get("EXPORT_DIR") or var_dir / "exports").resolve(),
            export_stream_max_features=_int(env, "EXPORT_STREAM_MAX_FEATURES", 20_000),
            export_ttl_hours=_int(env, "EXPORT_TTL_HOURS", 48),
            sign_in_limit_account=_limits(
                env, "SIGN_IN_LIMIT_ACCOUNT", "5/minute;10/10 minutes;20/hour"
            ),
            sign_in_limit_source=_limits(env, "SIGN_IN_LIMIT_SOURCE", "30/minute;100/hour"),
            enrol_limit_source=_limits(env, "ENROL_LIMIT_SOURCE", "10/minute;30/hour"),
            sos_text_limit_sender=_limits(env, "SOS_TEXT_LIMIT_SENDER", "10/5 minutes"),
            sos_text_limit_source=_limits(env, "SOS_TEXT_LIMIT_SOURCE", "60/minute"),
            trusted_proxies=_int(env, "TRUSTED_PROXIES", 0),
            read_timeout_s=_int(env, "READ_TIMEOUT_S", 15),
            max_coverage_cells=_int(env, "MAX_COVERAGE_CELLS", 100_000),
            web_threads=(threads := _int(env, "WEB_THREADS", 32)),
            live_streams_max=_int(env, "LIVE_STREAMS_MAX", max(1, threads // 4)),
            live_streams_per_token=_int(env, "LIVE_STREAMS_PER_TOKEN", 3),
            device_token_ttl_days=_int(env, "DEVICE_TOKEN_TTL_DAYS", 30),
        )


def _stored_fernet_key(var_dir: Path) -> str:
    """The installation's key for suspects' data, made once under var/ (a Fernet key: 32
    random bytes, URL-safe base64). Set SUSPECT_DATA_KEYS to keep it elsewhere."""
    return _stored_secret(var_dir, "suspect_data_key", lambda: _fernet_key(secrets.token_bytes(32)))


def _fernet_key(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode()


def _stored_secret(var_dir: Path, name: str = "secret_key", make=None) -> str:
    """A per-installation secret kept under var/, made on first use: sessions survive restarts."""
    path = var_dir / name
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    secret = make() if make else secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return path.read_text().strip()
    with os.fdopen(fd, "w") as f:
        f.write(secret + "\n")
    return secret
