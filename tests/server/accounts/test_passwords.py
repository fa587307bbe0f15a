"""Password hashing: full-cost argon2id in every server, the cheap parameters the test suite uses
(tests/conftest.py) kept to the test process, and a stored hash brought up to the parameters in
force when its owner signs in."""

from __future__ import annotations

import subprocess
import sys

import argon2
from sqlalchemy import select

from server.accounts import passwords
from server.accounts.models import User
from tests import factories

PRODUCTION = argon2.profiles.RFC_9106_LOW_MEMORY


def test_a_server_process_hashes_at_full_cost():
    """A process that never heard of the test suite: what `rangersync serve` hashes with."""
    hashed = subprocess.run(
        [
            sys.executable,
            "-c",
            "from server.accounts import passwords; print(passwords.hash_password('a-secret-x'))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    parameters = argon2.extract_parameters(hashed)
    assert parameters.type is argon2.Type.ID
    assert (parameters.time_cost, parameters.memory_cost, parameters.parallelism) == (
        PRODUCTION.time_cost,
        PRODUCTION.memory_cost,
        PRODUCTION.parallelism,
    )


def _sign_in(client, username: str) -> None:
    response = client.post(
        "/api/v1/auth/token", json={"username": username, "password": factories.PASSWORD}
    )
    assert response.status_code == 201, response.get_json()


def test_signing_in_keeps_a_hash_made_with_the_parameters_in_force(client, db):
    park = factories.area(db)
    user = factories.user(db, park.id)
    db.commit()
    made = user.password_hash
    assert argon2.extract_parameters(made).memory_cost == argon2.profiles.CHEAPEST.memory_cost
    _sign_in(client, user.username)
    assert db.scalar(select(User.password_hash).where(User.id == user.id)) == made


def test_signing_in_rehashes_a_hash_made_with_other_parameters(client, db):
    park = factories.area(db)
    user = factories.user(db, park.id)
    user.password_hash = argon2.PasswordHasher.from_parameters(PRODUCTION).hash(factories.PASSWORD)
    db.commit()
    _sign_in(client, user.username)
    rehashed = db.scalar(select(User.password_hash).where(User.id == user.id))
    assert argon2.extract_parameters(rehashed).memory_cost == argon2.profiles.CHEAPEST.memory_cost
    assert passwords.verify(rehashed, factories.PASSWORD)
