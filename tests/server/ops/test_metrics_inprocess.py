"""/metrics and request ids inside one process (the Flask test client): the backup status
becomes a gauge, a proxy's sane request id is kept and a client's odd one replaced."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from prometheus_client.parser import text_string_to_metric_families

from server.core import logs


def _samples(client) -> dict:
    response = client.get("/metrics")
    assert response.status_code == 200
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for s in family.samples
    }


def test_the_last_backup_and_file_copy_are_gauges(app, client):
    config = app.extensions["rangersync"].config
    config.backup_dir.mkdir(parents=True, exist_ok=True)
    finished = datetime(2026, 11, 29, 1, 30, 12, tzinfo=UTC)
    status = {"backup": {"at": finished.isoformat(), "result": {}}}
    (config.backup_dir / "status.json").write_text(json.dumps(status))
    try:
        samples = _samples(client)
    finally:
        (config.backup_dir / "status.json").unlink()
    name = "rangersync_backup_last_success_timestamp_seconds"
    assert samples[(name, (("what", "database"),))] == finished.timestamp()
    assert (name, (("what", "files"),)) not in samples  # never copied: absent, and alerted on
    assert samples[("rangersync_database_up", ())] == 1
    assert samples[("rangersync_disk_free_bytes", (("path", "var"),))] > 0


def test_a_proxys_request_id_is_kept_and_an_odd_one_replaced(client):
    kept = client.get("/healthz", headers={"X-Request-ID": "nginx-5f2a9c1e7d3b4a60"})
    assert kept.headers["X-Request-ID"] == "nginx-5f2a9c1e7d3b4a60"
    odd = client.get("/healthz", headers={"X-Request-ID": "<script> & 'quotes'"})
    assert odd.headers["X-Request-ID"] != "<script> & 'quotes'"
    assert len(odd.headers["X-Request-ID"]) == 32


def test_json_log_lines_carry_the_request_id_and_extra_fields():
    record = logging.LogRecord(
        "rangersync.test", logging.WARNING, __file__, 1, "sent %s", ("x",), None
    )
    record.channel = "sms"
    token = logs.request_id.set("req-0123456789")
    try:
        line = json.loads(logs.JsonFormatter().format(record))
    finally:
        logs.request_id.reset(token)
    assert line["message"] == "sent x" and line["level"] == "warning"
    assert line["request_id"] == "req-0123456789" and line["channel"] == "sms"
