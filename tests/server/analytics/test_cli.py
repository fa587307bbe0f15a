"""`rangersync analytics` against a database of its own, and the demo park's figures."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import text

from server.cli import main
from server.demo.seed import seed


def test_demo_park_comes_with_its_coverage_and_effort(db):
    seed(db)
    patrols = db.execute(text("SELECT count(*) FROM patrols")).scalar_one()
    assert db.execute(text("SELECT count(*) FROM patrol_effort")).scalar_one() == patrols >= 1
    assert db.execute(text("SELECT count(*) FROM coverage_visits")).scalar_one() > 50
    assert db.execute(text("SELECT count(*) FROM zone_visits")).scalar_one() >= 1


def test_cell_size_and_rebuild_from_the_command_line(committed_db, fresh_engine, monkeypatch):
    seed(committed_db)
    committed_db.commit()
    monkeypatch.setenv("DATABASE_URL", fresh_engine.url.render_as_string(hide_password=False))
    runner = CliRunner()
    before = committed_db.execute(text("SELECT count(*) FROM coverage_visits")).scalar_one()
    answer = runner.invoke(main, ["analytics", "cell-size", "--area", "demo", "2000"])
    assert answer.exit_code == 0, answer.output
    coarse = committed_db.execute(text("SELECT count(*) FROM coverage_visits")).scalar_one()
    assert 0 < coarse < before
    answer = runner.invoke(main, ["analytics", "rebuild", "--area", "demo"])
    assert answer.exit_code == 0 and "rebuilt" in answer.output
    assert committed_db.execute(text("SELECT count(*) FROM coverage_visits")).scalar_one() == coarse
    answer = runner.invoke(main, ["analytics", "cell-size", "--area", "demo", "5"])
    assert answer.exit_code == 1 and "50 to 20000" in answer.output
    answer = runner.invoke(main, ["analytics", "rebuild", "--area", "nowhere"])
    assert answer.exit_code == 1 and "no area" in answer.output
