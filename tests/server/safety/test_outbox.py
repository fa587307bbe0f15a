"""The notification outbox with real `rangersync worker` processes, a real SMTP server and an
HTTP SMS gateway: every notification delivered exactly once, however many workers run, and
once (not twice) when a worker is killed in the middle of a delivery."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections import Counter

import pytest
from shapely.geometry import Point
from sqlalchemy import text
from sqlalchemy.orm import sessionmaker

from server.notify.delivery import requeue_orphans
from server.safety.alerts import raise_alert
from server.safety.settings import ensure
from tests import factories
from tests.live import BIN
from tests.server.safety.servers import GatewayServer, SmtpServer

pytestmark = pytest.mark.slow


def _workers(engine, smtp, gateway, n: int, tmp_path, **env) -> list[subprocess.Popen]:
    environ = (
        os.environ
        | {
            "DATABASE_URL": engine.url.render_as_string(hide_password=False),
            "RANGERSYNC_VAR_DIR": str(tmp_path / "var"),
            "SMTP_URL": smtp.url,
            "SMS_GATEWAY_URL": gateway.url,
            "NOTIFY_TIMEOUT_S": "3",
            "LOG_LEVEL": "WARNING",
        }
        | env
    )
    return [
        subprocess.Popen(
            [BIN / "rangersync", "worker", "--concurrency", "3"],
            env=environ,
            stdout=open(tmp_path / f"worker-{i}-{time.monotonic_ns()}.log", "w"),
            stderr=subprocess.STDOUT,
        )
        for i in range(n)
    ]


def _stop(processes) -> None:
    for p in processes:
        if p.poll() is None:
            p.terminate()
    for p in processes:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()


def _states(db) -> Counter:
    db.rollback()
    return Counter(db.execute(text("SELECT state FROM notifications")).scalars())


def _wait_for(condition, timeout: float = 90.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def _park_with_targets(db, emails, phones):
    area = factories.area(db)
    settings = ensure(db, area.id)
    settings.notify_emails = emails
    settings.notify_sms = phones
    db.commit()
    return area


def test_several_workers_deliver_every_notification_exactly_once(
    fresh_engine, committed_db, tmp_path
):
    db = committed_db
    emails = [f"warden{i}@example.org" for i in range(3)]
    phones = ["+255700000001", "+255700000002"]
    with SmtpServer() as smtp, GatewayServer() as gateway, GatewayServer() as hook:
        area = _park_with_targets(db, emails, phones)
        db.execute(
            text("UPDATE safety_settings SET notify_webhooks = ARRAY[:url]"), {"url": hook.url}
        )
        for i in range(8):
            raise_alert(
                db,
                area.id,
                severity="critical",
                kind="sos",
                source="sos",
                message=f"SOS number {i}",
                geometry=Point(37.1, -3.4),
                radius_m=5000,
                dedupe_key=f"test:{i}",
            )
        db.commit()
        assert _states(db) == {"pending": 8 * 6}
        workers = _workers(fresh_engine, smtp, gateway, 3, tmp_path)
        try:
            _wait_for(lambda: _states(db) == {"sent": 48}, what="every notification sent")
            time.sleep(2)  # anything sent twice would arrive by now
        finally:
            _stop(workers)
        ids = db.execute(text("SELECT id::text FROM notifications")).scalars().all()
        mail_ids = [m["Message-ID"].strip("<>").split("@")[0] for _, m in smtp.messages]
        sms_keys = [r["key"] for r in gateway.gateway.requests]
        hook_keys = [r["key"] for r in hook.gateway.requests]
        assert sorted(mail_ids + sms_keys + hook_keys) == sorted(ids)  # each once, none twice
        assert Counter(to for tos, _ in smtp.messages for to in tos) == {e: 8 for e in emails}
        assert Counter(r["to"] for r in gateway.gateway.sent) == {p: 8 for p in phones}
        assert all(len(r["text"]) <= 160 for r in gateway.gateway.sent)
        assert sorted(r["alert"]["message"] for r in hook.gateway.sent) == [
            f"SOS number {i}" for i in range(8)
        ]
        assert {r["alert"]["geometry"]["type"] for r in hook.gateway.sent} == {"Point"}
    attempts = db.execute(text("SELECT max(attempts) FROM notifications")).scalar_one()
    assert attempts == 1


def test_a_worker_killed_mid_delivery_leaves_it_to_be_delivered_once(
    fresh_engine, committed_db, tmp_path
):
    db = committed_db
    area = _park_with_targets(db, [], ["+255700000009"])
    raise_alert(
        db,
        area.id,
        severity="critical",
        kind="sos",
        source="sos",
        message="Ranger down",
        geometry=Point(37.1, -3.4),
        radius_m=5000,
        dedupe_key="test:killed",
    )
    db.commit()
    with SmtpServer() as smtp, GatewayServer() as server:
        gateway = server.gateway
        gateway.hold = __import__("threading").Event()
        gateway.hold.set()
        (first,) = _workers(fresh_engine, smtp, server, 1, tmp_path)
        try:
            assert gateway.arrived.wait(60), "the worker never reached the gateway"
            assert _states(db) == {"sending": 1}
            first.send_signal(signal.SIGKILL)  # dies while the gateway holds its request
            first.wait(10)
        finally:
            _stop([first])
        gateway.hold.clear()
        gateway.release.set()  # the held request finds its sender gone and is dropped
        time.sleep(0.5)
        assert gateway.sent == [] and _states(db) == {"sending": 1}
        second = _workers(fresh_engine, smtp, server, 2, tmp_path)
        try:
            _wait_for(lambda: _states(db) == {"sent": 1}, what="delivery after the restart")
            time.sleep(2)
        finally:
            _stop(second)
        assert [r["to"] for r in gateway.sent] == ["+255700000009"]
        assert len(gateway.requests) == 2  # the killed attempt and the one that went through
        assert gateway.requests[0]["key"] == gateway.requests[1]["key"]
    row = db.execute(text("SELECT attempts, last_error FROM notifications")).one()
    assert row.attempts == 2


def test_a_refused_target_is_given_up_with_the_reason(fresh_engine, committed_db, tmp_path):
    db = committed_db
    area = _park_with_targets(db, ["warden@example.org"], [])
    raise_alert(
        db,
        area.id,
        severity="warning",
        kind="danger_zone",
        source="rule",
        message="Zone entered",
        dedupe_key="test:refused",
    )
    db.commit()
    with GatewayServer() as server:
        # An SMTP port where nothing listens, and no retries left after the first attempt.
        class Nowhere:
            url = "smtp://127.0.0.1:9"

        workers = _workers(fresh_engine, Nowhere, server, 1, tmp_path, NOTIFY_MAX_ATTEMPTS="1")
        try:
            _wait_for(lambda: _states(db) == {"failed": 1}, what="the notification given up")
        finally:
            _stop(workers)
    row = db.execute(text("SELECT attempts, last_error FROM notifications")).one()
    assert row.attempts == 1 and "SMTP" in row.last_error


def test_a_notification_whose_job_was_lost_is_queued_again_once(fresh_engine, committed_db):
    db = committed_db
    area = _park_with_targets(db, ["warden@example.org"], [])
    raise_alert(
        db,
        area.id,
        severity="critical",
        kind="sos",
        source="sos",
        message="SOS whose job was lost",
        geometry=Point(37.1, -3.4),
        radius_m=5000,
        dedupe_key="test:orphan",
    )
    db.execute(text("DELETE FROM procrastinate.procrastinate_jobs"))  # as if never queued
    db.execute(text("UPDATE notifications SET created_at = now() - interval '2 minutes'"))
    db.commit()
    factory = sessionmaker(fresh_engine)

    assert requeue_orphans(factory) == 1
    assert requeue_orphans(factory) == 0  # its job is waiting now: not queued twice
    jobs = db.execute(
        text("SELECT args ->> 'notification_id' FROM procrastinate.procrastinate_jobs")
    ).scalars()
    assert list(jobs) == [str(db.execute(text("SELECT id FROM notifications")).scalar_one())]
