"""`rangersync simulate --seizures RATE`: patrols make seizures, pushed like any record, and the
park's CITES report holds them."""

from __future__ import annotations

import subprocess

import psycopg

from tests.live import BIN


def test_simulated_patrols_make_seizures_that_reach_the_server(live_server):
    result = subprocess.run(
        [
            BIN / "rangersync",
            "simulate",
            "--server",
            live_server.url,
            "--devices",
            "2",
            "--hours",
            "1",
            "--signal",
            "0.5",
            "--photos",
            "0",
            "--seizures",
            "1",
            "--seed",
            "15",
        ],
        env=live_server.env,
        capture_output=True,
        text=True,
        check=False,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    summary = next(line for line in result.stdout.splitlines() if "devices," in line)
    assert "2 devices, 240 fixes, 6 reports, 2 seizures" in summary
    assert "rejected" not in summary and "conflict" not in summary
    with psycopg.connect(live_server.env["DATABASE_URL"].replace("+psycopg", "")) as conn:
        rows = conn.execute(
            "SELECT s.patrol_id IS NOT NULL, count(i.*), bool_and(i.taxon_id IS NOT NULL)"
            " FROM seizures s JOIN seizure_items i ON i.seizure_id = s.id"
            " WHERE s.reference LIKE 'SIM/%' GROUP BY s.id"
        ).fetchall()
    assert len(rows) == 2
    assert all(linked and items >= 1 and named for linked, items, named in rows)
