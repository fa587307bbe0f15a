"""Seeds the demo park: its geography, people, teams, devices, categories, and a few patrols.

Idempotent: `seed` does nothing (and answers False) when the demo area already exists.
"""

from __future__ import annotations

import itertools
import random
import uuid
from datetime import UTC, date, datetime, timedelta

from geoalchemy2.shape import from_shape
from pyproj import Geod
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from server.accounts import passwords
from server.accounts.models import Membership, Team, TeamMember, User
from server.analytics.tracks import refresh_area
from server.areas.models import Area, MapFeature, Zone
from server.core import audit, tokens
from server.core.policy import SYSTEM
from server.demo import geodata
from server.demo.seizures import seed_seizures
from server.devices.models import Device
from server.partners.geoprivacy import set_rules
from server.patrols.models import Patrol, PatrolMember
from server.patrols.service import derive_figures
from server.reports.categories import load_standard_categories
from server.reports.models import Report, ReportCategory

# Every demo account shares one password, printed by `make run`; it meets the password rules.
DEMO_PASSWORD = "mweusi-demo-2026"  # noqa: S105 (printed by `make run` on purpose)
RANGERS = (
    "amani",
    "baraka",
    "chausiku",
    "daudi",
    "eliya",
    "faraja",
    "gift",
    "hamisi",
    "imani",
    "juma",
    "kheri",
    "lulu",
)
TEAMS = ("Simba", "Tembo", "Kifaru")
STAFF = {  # username: (role, display name)
    "warden": ("admin", "Chief Park Warden"),
    "manager": ("manager", "Operations Manager"),
    "neema": ("manager", "Neema (Intelligence)"),
    "partner": ("partner", "Conservation Partner"),
    "inspekta": ("investigator", "Inspector Rehema (Investigations)"),
}
# What `make run` prints: one account per role.
DEMO_USERS = (
    ("warden", "admin", DEMO_PASSWORD),
    ("manager", "manager", DEMO_PASSWORD),
    ("amani", "ranger", DEMO_PASSWORD),
    ("partner", "partner", DEMO_PASSWORD),
    ("inspekta", "investigator", DEMO_PASSWORD),
)
DEVICES_ENROLLED = 6
FIX_INTERVAL = timedelta(seconds=30)
WALKING_SPEED_MPS = 1.1
GEOD = Geod(ellps="WGS84")


# What partners see of the demo park's reports: sightings snapped to 10 km cells, rhinos never,
# fires as they are; poaching and law enforcement stay hidden (sensitive, no rule).
DEMO_GEOPRIVACY = [
    {"category": "wildlife_sighting", "visibility": "snapped", "cell_m": 10_000},
    {"category": "human_wildlife_conflict", "visibility": "snapped", "cell_m": 5_000},
    {"species": "rhino", "visibility": "hidden"},
    {"category": "fire", "visibility": "exact"},
]


def demo_present(session: Session) -> bool:
    return session.scalar(select(Area.id).where(Area.slug == geodata.AREA_SLUG)) is not None


def seed(session: Session, now: datetime | None = None) -> bool:
    if demo_present(session):
        return False
    now = now or datetime.now(UTC)
    rng = random.Random(20261124)  # noqa: S311 (the same demo park every time)
    load_standard_categories(session)
    area = Area(
        slug=geodata.AREA_SLUG,
        name=geodata.AREA_NAME,
        timezone=geodata.AREA_TIMEZONE,
        boundary=from_shape(geodata.boundary(), srid=4326),
    )
    session.add(area)
    session.flush()
    session.add_all(
        Zone(area_id=area.id, name=z.name, kind=z.kind, geom=from_shape(z.geometry, srid=4326))
        for z in geodata.zones()
    )
    session.add_all(
        MapFeature(
            area_id=area.id,
            layer=f.layer,
            name=f.name,
            geom=from_shape(f.geometry, srid=4326),
            properties=f.properties,
        )
        for f in geodata.features()
    )
    users = _people(session, area.id)
    teams = _teams(session, area.id, users)
    devices = _devices(session, area.id, users)
    _patrols_and_reports(session, area.id, users, teams, devices, now, rng)
    refresh_area(session, area.id)  # coverage and effort of the seeded patrols
    seed_seizures(session, area.id, now)
    set_rules(session, SYSTEM, area.id, DEMO_GEOPRIVACY)
    audit.record(session, SYSTEM, "demo.seed", "area", area.id, area_id=area.id)
    session.flush()
    return True


def _people(session: Session, area_id: uuid.UUID) -> dict[str, User]:
    password_hash = passwords.hash_password(DEMO_PASSWORD)
    people = STAFF | {name: ("ranger", f"Ranger {name.capitalize()}") for name in RANGERS}
    users = {}
    for i, (username, (role, display_name)) in enumerate(people.items()):
        # Demo numbers in a range no operator assigns (+255 700 000 1xx), for the SOS card.
        phone = f"+255700000{100 + i}" if role == "ranger" else None
        user = User(
            username=username, display_name=display_name, password_hash=password_hash, phone=phone
        )
        session.add(user)
        session.flush()
        session.add(Membership(user_id=user.id, area_id=area_id, role=role))
        users[username] = user
    return users


def _teams(session: Session, area_id: uuid.UUID, users: dict[str, User]) -> list[Team]:
    teams = []
    for i, name in enumerate(TEAMS):
        team = Team(area_id=area_id, name=name)
        session.add(team)
        session.flush()
        for ranger in RANGERS[i * 4 : i * 4 + 4]:
            session.add(TeamMember(team_id=team.id, user_id=users[ranger].id, area_id=area_id))
        teams.append(team)
    return teams


def _devices(session: Session, area_id: uuid.UUID, users: dict[str, User]) -> list[Device]:
    """Six handhelds, two per team. Their tokens are random and never shown: to sync as a
    device, enrol a new one with `rangersync device enrol`."""
    devices = []
    for i in range(DEVICES_ENROLLED):
        ranger = RANGERS[(i // 2) * 4 + (i % 2)]
        device = Device(
            area_id=area_id,
            user_id=users[ranger].id,
            name=f"Handheld {i + 1:02d} ({ranger})",
            token_hash=tokens.digest(tokens.new_token(tokens.DEVICE_TOKEN_PREFIX)),
            app_version="1.0.0",
            platform="android",
        )
        session.add(device)
        devices.append(device)
    session.flush()
    return devices


def _fixes(route: list[tuple[float, float]], start: datetime, rng: random.Random):
    """Fixes every 30 s along a route at walking pace, with a few metres of GPS noise."""
    step = WALKING_SPEED_MPS * FIX_INTERVAL.total_seconds()
    t = start
    for (lon1, lat1), (lon2, lat2) in itertools.pairwise(route):
        azimuth, _, length = GEOD.inv(lon1, lat1, lon2, lat2)
        travelled = 0.0
        while travelled < length:
            lon, lat, _ = GEOD.fwd(lon1, lat1, azimuth, travelled)
            noise_lon, noise_lat, _ = GEOD.fwd(lon, lat, rng.uniform(0, 360), rng.uniform(0, 6))
            yield round(noise_lon, 7), round(noise_lat, 7), t, round(rng.uniform(3, 12), 1)
            travelled += step
            t += FIX_INTERVAL


def _patrols_and_reports(session, area_id, users, teams, devices, now, rng) -> None:
    categories = {c.key: c.id for c in session.scalars(select(ReportCategory))}
    findings = [
        ("poaching.snare", {"snare_type": "wire", "count": 3, "action_taken": "removed"}),
        ("wildlife_sighting", {"species": "elephant", "count": 14, "calves": 3}),
        ("illegal_logging", {"species": "rosewood", "stumps": 5, "equipment": "chainsaw"}),
        ("poaching.gunshot", {"shots": 2, "bearing_deg": 130}),
        (
            "poaching.carcass",
            {
                "species": "elephant",
                "cause": "poaching_gunshot",
                "trophies": "removed",
                "estimated_days_dead": 4,
            },
        ),
    ]
    for i, route in enumerate(geodata.patrol_routes()):
        team = teams[i % len(teams)]
        members = RANGERS[i * 4 : i * 4 + 4]
        device = devices[2 * i]
        started = (now - timedelta(days=3 * (i + 1))).replace(
            hour=6, minute=0, second=0, microsecond=0
        )
        fixes = list(_fixes(route, started, rng))
        patrol = Patrol(
            id=uuid.uuid4(),
            area_id=area_id,
            device_id=device.id,
            patrol_type="foot",
            transport="foot",
            mandate="anti_poaching",
            team_id=team.id,
            leader_id=users[members[0]].id,
            armed=True,
            objective="Routine anti-poaching patrol",
            planned_start=started,
            planned_end=started + timedelta(hours=8),
            started_at=started,
            ended_at=fixes[-1][2],
            track_month=date(started.year, started.month, 1),
        )
        session.add(patrol)
        session.flush()
        session.add_all(
            PatrolMember(patrol_id=patrol.id, user_id=users[m].id, area_id=area_id) for m in members
        )
        session.execute(text("SELECT rs_ensure_track_partition(:m)"), {"m": patrol.track_month})
        session.execute(
            text(
                "INSERT INTO track_points (patrol_id, seq, track_month, area_id, device_time,"
                " recorded_at, geom, accuracy_m) VALUES (:patrol, :seq, :month, :area, :t, :t,"
                " ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), :acc)"
            ),
            [
                {
                    "patrol": patrol.id,
                    "seq": seq,
                    "month": patrol.track_month,
                    "area": area_id,
                    "t": t,
                    "lon": lon,
                    "lat": lat,
                    "acc": acc,
                }
                for seq, (lon, lat, t, acc) in enumerate(fixes)
            ],
        )
        derive_figures(session, patrol.id)
        for j in range(2):
            key, attributes = findings[(2 * i + j) % len(findings)]
            lon, lat, t, _ = fixes[(j + 1) * len(fixes) // 3]
            session.add(
                Report(
                    id=uuid.uuid4(),
                    area_id=area_id,
                    category_id=categories[key],
                    patrol_id=patrol.id,
                    device_id=device.id,
                    reported_by=users[members[0]].id,
                    attributes=attributes,
                    geom=f"SRID=4326;POINT({lon} {lat})",
                    observed_at_device=t,
                    observed_at=t,
                    clock_skew_s=0.0,
                    priority=2 if key.startswith("poaching") else 3,
                )
            )
    session.flush()
