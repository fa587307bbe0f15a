"""A device's life as hypothesis plays it: records made offline, pushed, retried, duplicated,
reordered, answers lost, edits made on old versions, pulls. After every step the server holds
exactly the model's records, each once, with the content the model expects."""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import text

from tests.server.sync import helpers as h

SPECIES = ("elephant", "rhino", "pangolin", "lion", "giraffe")


class Device(RuleBasedStateMachine):
    client = None
    db = None

    def __init__(self):
        super().__init__()
        self.park = h.park(self.db)
        self.outbox: dict[str, dict] = {}  # every record ever made on the device, by id
        self.sent: set[str] = set()  # ids that reached the server in some push
        self.acknowledged: set[str] = set()  # ids the device saw a stored/duplicate verdict for
        self.notes: dict[str, str | None] = {}  # what the server must hold, per report
        self.versions: dict[str, int] = {}  # the server's version, per report
        self.edits: list[dict] = []  # edits made, to retry
        self.cursor = None

    def _push(self, records, lose_answer: bool):
        response = h.push(self.client, self.park, records)
        assert response.status_code == 200, response.get_json()
        results = response.get_json()["results"]
        for record, result in zip(records, results, strict=True):
            assert result["id"] == record["id"]
            if record["kind"] == "report":
                self.sent.add(record["id"])
                assert result["verdict"] in ("stored", "duplicate"), result
                if not lose_answer:
                    self.acknowledged.add(record["id"])
        return results

    @rule(species=st.sampled_from(SPECIES), count=st.integers(1, 40))
    def record_a_sighting(self, species, count):
        record = h.report(
            category="wildlife_sighting", attributes={"species": species, "count": count}
        )
        self.outbox[record["id"]] = record

    @precondition(lambda self: self.outbox)
    @rule(data=st.data(), lose_answer=st.booleans(), duplicate=st.booleans())
    def push_some(self, data, lose_answer, duplicate):
        ids = data.draw(st.lists(st.sampled_from(sorted(self.outbox)), min_size=1, max_size=6))
        batch = [self.outbox[i] for i in ids]
        if duplicate:
            batch = batch + batch[:1]
        batch = data.draw(st.permutations(batch))
        self._push(batch, lose_answer)
        for record in batch:
            self.notes.setdefault(record["id"], None)
            self.versions.setdefault(record["id"], 1)

    @precondition(lambda self: self.acknowledged)
    @rule(data=st.data(), note=st.text(min_size=1, max_size=20), stale=st.booleans())
    def edit_a_report(self, data, note, stale):
        report_id = data.draw(st.sampled_from(sorted(self.acknowledged)))
        current = self.versions[report_id]
        base = current - 1 if stale and current > 1 else current
        edit = h.edit(report_id, base, {"notes": note})
        (result,) = self._push([edit], lose_answer=False)
        if "\x00" in note:  # PostgreSQL cannot hold it: refused, never altered
            assert (result["verdict"], result["code"]) == ("rejected", "unstorable-text")
            return
        if base == current:
            assert (result["verdict"], result["version"]) == ("stored", current + 1)
            self.versions[report_id], self.notes[report_id] = current + 1, note
        else:
            assert (result["verdict"], result["code"]) == ("conflict", "stale-base")
        self.edits.append(edit)

    @precondition(lambda self: self.edits)
    @rule(data=st.data())
    def retry_an_edit(self, data):
        edit = data.draw(st.sampled_from(self.edits))
        (result,) = self._push([edit], lose_answer=False)
        # the answer it had, never re-applied (or the same refusal)
        assert result["verdict"] in ("duplicate", "conflict", "rejected")

    @rule()
    def pull(self):
        changes, self.cursor = [], self.cursor
        while True:
            query = {"cursor": self.cursor} if self.cursor else {}
            body = self.client.get(
                "/api/v1/sync/pull", query_string=query, headers=self.park.headers
            ).get_json()
            changes += body["changes"]
            self.cursor = body["cursor"]
            if not body["more"]:
                break
        for change in changes:
            if change["kind"] == "report":
                assert change["data"]["version"] == self.versions[change["id"]]
                assert change["data"]["notes"] == self.notes[change["id"]]

    @invariant()
    def server_holds_exactly_what_was_sent_once(self):
        rows = self.db.execute(
            text("SELECT id::text, notes, version FROM reports WHERE device_id = :d"),
            {"d": self.park.device_id},
        ).all()
        self.db.commit()
        stored = {r.id: (r.notes, r.version) for r in rows}
        assert len(rows) == len(stored)  # no duplicates
        assert set(stored) == self.sent  # nothing lost, nothing extra
        assert self.acknowledged <= set(stored)
        assert stored == {i: (self.notes[i], self.versions[i]) for i in self.sent}


def test_device_life(committed_client, committed_db):
    Device.client, Device.db = committed_client, committed_db
    run_state_machine_as_test(
        Device,
        settings=settings(
            max_examples=12,
            stateful_step_count=12,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
