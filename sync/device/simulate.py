"""A fleet simulator: N handhelds walk foot patrols in a park, file reports, lose their signal,
and sync through the reference client — how a newcomer sees the system alive, and what
benchmarks and fault tests drive.

It signs in as a manager to enrol its devices (one per ranger, with one-time codes, as a real
deployment would), then plays each device's day. Everything goes through the public API.
"""

from __future__ import annotations

import json
import random
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sync.device.client import RETRYABLE_STATUS, DeviceClient, SyncRefused, SyncReport
from sync.device.fieldsim import FIX_INTERVAL_S, foot_patrol
from sync.device.http import NoAnswer, exchange
from sync.device.photos import photo

SIGHTINGS = ("elephant", "giraffe", "buffalo", "lion", "rhino", "zebra")
# What a patrol may seize: (scientific name, CITES term, unit, quantity range)
SEIZED = (
    ("Manis tricuspis", "SCA", "kg", (1, 25)),
    ("Loxodonta africana", "TUS", "NUM", (1, 4)),
    ("Psittacus erithacus", "LIV", "NUM", (2, 30)),
    ("Dalbergia melanoxylon", "LOG", "m3", (1, 6)),
    ("Syncerus caffer", "MEA", "kg", (10, 80)),
)


@dataclass
class FleetResult:
    devices: int
    fixes: int
    reports: int
    verdicts: Counter
    offline_syncs: int
    sent: int = 0  # records the devices made (patrols, chunks, reports, edits)
    acknowledged: int = 0  # of those, the ones the server answered stored, duplicate or kept
    photos: int = 0  # evidence files taken
    photos_uploaded: int = 0  # of those, the ones the server holds, verified by SHA-256
    seizures: int = 0  # patrols that made a seizure
    receipts: int = 0  # photos whose signed receipt the device holds and verified

    @property
    def complete(self) -> bool:
        return self.acknowledged == self.sent and self.photos_uploaded == self.photos


def _call(
    base: str,
    method: str,
    path: str,
    body: dict | None = None,
    token: str | None = None,
    *,
    retries: int = 8,
    backoff_s: float = 0.1,
):
    """One call of the public API, asked again while the link gives no (whole) answer or the
    server is briefly unavailable; a refusal is raised as SyncRefused."""
    data = None if body is None else json.dumps(body).encode()
    for failures in range(retries + 1):
        request = urllib.request.Request(base + path, data=data, method=method)  # noqa: S310
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            answer = exchange(request, timeout=30)
            if answer.status < 400:
                return answer.json() if answer.body else None
            problem = answer.json()  # a refusal cut short is no answer either
        except NoAnswer:
            if failures == retries:
                raise
        else:
            if answer.status not in RETRYABLE_STATUS or failures == retries:
                raise SyncRefused(answer.status, problem if isinstance(problem, dict) else {})
        time.sleep(min(backoff_s * 2**failures, 5.0) * random.uniform(0.5, 1.5))  # noqa: S311
    raise AssertionError("unreachable")


def manager_session(base: str, area: str, manager: str, password: str) -> tuple[str, list[str]]:
    """Sign in as the manager who enrols the devices: (their token, the area's active rangers)."""
    credentials = {"username": manager, "password": password}
    token = _call(base, "POST", "/api/v1/auth/token", credentials)["access_token"]
    members = _call(base, "GET", f"/api/v1/areas/{area}/members", token=token)
    rangers = [m["username"] for m in members if m["role"] == "ranger" and not m["disabled"]]
    if not rangers:
        raise SystemExit(f"simulate: area {area!r} has no rangers to give devices to")
    return token, rangers


def enrol_device(base: str, token: str, area: str, ranger: str, name: str) -> dict:
    """A one-time code from the manager, exchanged by the handheld: {device_id, token, …}.

    If the exchange's answer is lost, the code may have been used all the same (a device
    enrolled that nobody holds: a manager revokes it from the devices page); a new code is
    asked for and exchanged, never the used one again."""
    path = f"/api/v1/areas/{area}/enrolment-codes"
    for attempt in range(4):
        code = _call(base, "POST", path, {"username": ranger}, token)["code"]
        device = {"code": code, "name": name, "app_version": "sim-1"}
        try:
            return _call(base, "POST", "/api/v1/devices/enrol", device, retries=0)
        except NoAnswer:
            if attempt == 3:
                raise
    raise AssertionError("unreachable")


def _enrol_fleet(
    base: str, area: str, manager: str, password: str, devices: int
) -> list[tuple[str, str]]:
    token, rangers = manager_session(base, area, manager, password)
    fleet = []
    for i in range(devices):
        ranger = rangers[i % len(rangers)]
        enrolled = enrol_device(base, token, area, ranger, f"Simulated handheld {i + 1}")
        fleet.append((ranger, enrolled["token"]))
    return fleet


def _start_points(client: DeviceClient) -> list[tuple[float, float]]:
    posts = [
        f["geometry"]["coordinates"]
        for f in client.scope("map_feature").values()
        if f["layer"] == "ranger_post"
    ]
    if posts:
        return [tuple(p) for p in posts]
    (area,) = client.scope("area").values()
    ring = area["boundary"]["coordinates"][0][0]
    return [(sum(p[0] for p in ring) / len(ring), sum(p[1] for p in ring) / len(ring))]


def run_fleet(
    base: str,
    *,
    area: str = "demo",
    manager: str = "manager",
    password: str = "",
    devices: int = 3,
    hours: float = 2.0,
    reports_per_patrol: int = 3,
    photo_rate: float = 0.5,
    signal: float = 0.6,
    seizure_rate: float = 0.0,
    seed: int = 1,
    workdir: Path | None = None,
    say: Callable[[str], None] = print,
) -> FleetResult:
    """Each device: a patrol of `hours` ending now, recorded offline, with reports along the way
    (a photo with each with probability `photo_rate`); every simulated half hour it tries to
    sync, and gets a signal with probability `signal`; at the end it reaches a post with signal
    and syncs everything. A patrol makes a seizure with probability `seizure_rate`."""
    rng = random.Random(seed)  # noqa: S311 (a simulation)
    workdir = workdir or Path(tempfile.mkdtemp(prefix="rangersync-sim-"))
    fleet = _enrol_fleet(base, area, manager, password, devices)
    totals: Counter = Counter()
    fixes_total = reports_total = offline = sent = acknowledged = photos = uploaded = 0
    receipts = 0
    seizures = 0
    now = datetime.now(UTC).replace(microsecond=0)
    for number, (ranger, token) in enumerate(fleet, start=1):
        client = DeviceClient(base, token, workdir / f"device-{number}.db", sleep=lambda s: None)
        sync_until_through(client)  # the first pull: the park's map and categories
        start = rng.choice(_start_points(client))
        count = int(hours * 3600 / FIX_INTERVAL_S)
        began = now - timedelta(seconds=count * FIX_INTERVAL_S)
        fixes = foot_patrol(start, began, count, rng)
        patrol_id = client.start_patrol(
            started_at=began,
            leader=ranger,
            members=[ranger],
            armed=True,
            objective="Simulated anti-poaching patrol",
        )
        reporting_at = set(rng.sample(range(count), min(reports_per_patrol, count)))
        # Drawn only when asked for, so that runs without seizures stay as they were.
        seizing_at = rng.randrange(count) if seizure_rate and rng.random() < seizure_rate else None
        every = max(1, int(1800 / FIX_INTERVAL_S))
        for i, fix in enumerate(fixes):
            client.record_fix(patrol_id, fix)
            if i in reporting_at:
                _report(client, rng, patrol_id, fix, photo_rate)
                reports_total += 1
            if i == seizing_at:
                _seizure(client, rng, patrol_id, fix)
                seizures += 1
            if i and i % every == 0:
                if rng.random() < signal:
                    try:
                        _add(totals, client.sync())
                    except NoAnswer:  # the signal went as it came: the outbox keeps it all
                        offline += 1
                else:
                    offline += 1
        client.edit("patrol", patrol_id, 1, {"ended_at": fixes[-1].time.isoformat()})
        _add(totals, sync_until_through(client))
        fixes_total += count
        made, synced = client.outbox_counts()
        sent, acknowledged = sent + made, acknowledged + synced
        files, files_up = client.evidence_counts()
        photos, uploaded = photos + files, uploaded + files_up
        receipts += client.receipt_counts()[1]
        say(
            f"device {number} ({ranger}): {count} fixes, {len(reporting_at)} reports, "
            f"{files} photos, {client.pending()} still pending"
        )
    return FleetResult(
        len(fleet),
        fixes_total,
        reports_total,
        totals,
        offline,
        sent,
        acknowledged,
        photos,
        uploaded,
        seizures,
        receipts,
    )


def _report(
    client: DeviceClient, rng: random.Random, patrol_id: str, fix, photo_rate: float
) -> None:
    where = {"type": "Point", "coordinates": [round(fix.lon, 6), round(fix.lat, 6)]}
    if rng.random() < 0.5:
        category, priority = "wildlife_sighting", 3
        attributes = {"species": rng.choice(SIGHTINGS), "count": rng.randint(1, 30)}
    else:
        category, priority = "poaching.snare", 2
        attributes = {"snare_type": "wire", "count": rng.randint(1, 6), "action_taken": "removed"}
    report_id = client.record_report(
        category, where, fix.time, patrol_id=patrol_id, priority=priority, attributes=attributes
    )
    if rng.random() < photo_rate:  # 40 to 250 KB: a phone photo at the size field apps save
        client.declare_attachment(report_id, photo(rng.randint(40_000, 250_000), rng), "image/jpeg")


def _seizure(client: DeviceClient, rng: random.Random, patrol_id: str, fix) -> None:
    taxa = {t["scientific_name"]: taxon_id for taxon_id, t in client.scope("taxon").items()}
    items = []
    for name, term, unit, (low, high) in rng.sample(SEIZED, rng.randint(1, 2)):
        item = {"term": term, "unit": unit, "quantity": rng.randint(low, high), "source": "W"}
        items.append(item | ({"taxon_id": taxa[name]} if name in taxa else {"taxon_text": name}))
    client.record_seizure(
        fix.time,
        {"type": "Point", "coordinates": [round(fix.lon, 6), round(fix.lat, 6)]},
        items,
        patrol_id=patrol_id,
        agency="Park rangers (simulated)",
        detection_method="patrol",
        transport_mode=rng.choice(("on_foot", "road")),
        reason="illegal_possession",
        origin_countries=["TZ"],
        destination_countries=[rng.choice(("VN", "CN", "AE", "XX"))],
        reference=f"SIM/{fix.time:%Y}/{rng.randrange(10**6):06d}",
    )


def _add(totals: Counter, report: SyncReport) -> None:
    totals.update(report.pushed)


def sync_until_through(client: DeviceClient, attempts: int = 5) -> SyncReport:
    """At a post with signal the ranger syncs until the outbox is empty; a link that keeps
    dropping is tried `attempts` times (each with the client's own retries), then NoAnswer."""
    pushed: Counter = Counter()
    for attempt in range(attempts):
        try:
            report = client.sync()
        except NoAnswer:
            if attempt == attempts - 1:
                raise
            continue
        pushed.update(report.pushed)
        if client.pending() == 0:
            break
    return SyncReport(pushed=dict(pushed))
