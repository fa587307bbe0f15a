"""Logging: one JSON object per line (LOG_FORMAT=json, the default) or plain text, each record
carrying the id of the request it belongs to, also inside the worker jobs that request caused.

The request id comes from the reverse proxy's X-Request-ID header when it sends a sane one (so
nginx's and ours match), else is made here; it is answered in X-Request-ID, stored in the delivery
jobs a request defers, and set again while the worker runs them.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")
# Attributes every LogRecord has; anything else was passed with extra={…} and is logged as a field.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


def new_request_id(offered: str | None = None) -> str:
    """The proxy's id if it looks like one, else a fresh one: never a client's arbitrary text."""
    if offered and SANE_REQUEST_ID.match(offered):
        return offered
    return uuid.uuid4().hex


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = getattr(record, "request_id", None) or request_id.get()
        if rid:
            entry["request_id"] = rid
        entry |= {k: v for k, v in vars(record).items() if k not in _STANDARD and k != "request_id"}
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        rid = request_id.get()
        return f"{line} [request {rid}]" if rid else line


def configure(level: str, fmt: str = "json") -> None:
    """Set up the root logger once per process (again is harmless: it replaces our handler)."""
    root = logging.getLogger()
    root.setLevel(level)
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.set_name("rangersync")
    for old in [h for h in root.handlers if h.get_name() == "rangersync"]:
        root.removeHandler(old)
    root.addHandler(handler)
