"""Shared fixtures: real Postgres and Redis (embedded unless configured), the local source API."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis

from workbench.exercises.probes import RoundTrips, count_redis_round_trips
from workbench.local_api import FaultConfig, ServerHandle, serve_in_thread
from workbench.services import Services, ensure_services
from workbench.services.scratch import scratch_database

FIXTURE = Path(__file__).parent / "fixtures" / "jsonplaceholder-data.json"
SOURCE_SEED = 7
#: Databases a test run may claim and flush; database 0 (a user's runs, notebooks) never.
TEST_REDIS_DBS = range(1, 16)
#: How long a claim lasts if its run dies without giving it back.
CLAIM_TTL_S = 4 * 3600


@pytest.fixture(scope="session")
def services() -> Services:
    """The running Postgres and Redis, started through workbench.services if needed."""
    return ensure_services()


@pytest.fixture
def postgres_dsn(services: Services) -> Iterator[str]:
    """A DSN for a brand-new database on the real server, dropped after the test."""
    with scratch_database(services.postgres_dsn) as dsn:
        yield dsn


@pytest.fixture(scope="session")
def test_redis_db(services: Services) -> Iterator[int]:
    """A Redis database this test run has claimed, so concurrent runs never flush each other's.

    The claim is a key in database 0, set only if absent (``SET NX``) and given back at the
    end; one left by a killed run expires.
    """
    admin = redis.Redis.from_url(services.redis_url)
    token = uuid.uuid4().hex
    try:
        db = claim_redis_db(admin, token)
        yield db
        release_redis_db(admin, db, token)
    finally:
        admin.close()


def claim_redis_db(admin: redis.Redis, token: str) -> int:
    """Claim the first unclaimed test database for ``token``; fail when all are taken."""
    for db in TEST_REDIS_DBS:
        if admin.set(f"wb:test-claim:{db}", token, nx=True, ex=CLAIM_TTL_S):
            return db
    pytest.fail(f"every test Redis database ({TEST_REDIS_DBS}) is claimed by another run")


def release_redis_db(admin: redis.Redis, db: int, token: str) -> None:
    """Give a claimed database back, if the claim is still ``token``'s."""
    if admin.get(f"wb:test-claim:{db}") == token.encode():
        admin.delete(f"wb:test-claim:{db}")


@pytest.fixture
def redis_url(services: Services, test_redis_db: int) -> Iterator[str]:
    """A URL for a flushed Redis database claimed by this run, flushed again afterwards."""
    parts = urlsplit(services.redis_url)
    url = urlunsplit(parts._replace(path=f"/{test_redis_db}"))
    client = redis.Redis.from_url(url)
    client.flushdb()
    try:
        yield url
    finally:
        client.flushdb()
        client.close()


@pytest.fixture(scope="session")
def real_data() -> dict[str, list[dict[str, Any]]]:
    """Every resource of the real JSONPlaceholder data, by resource name."""
    return json.loads(FIXTURE.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def running_source() -> Iterator[ServerHandle]:
    """One server per test module (scale 1, seed 7), shared to keep the suite fast."""
    with serve_in_thread(seed=SOURCE_SEED) as handle:
        yield handle


@pytest.fixture
def source(running_source: ServerHandle) -> ServerHandle:
    """Return the module's server with no faults, zeroed counters and fresh fault draws."""
    running_source.set_faults(FaultConfig())
    running_source.reset_stats()
    return running_source


@pytest.fixture
def round_trips(monkeypatch: pytest.MonkeyPatch) -> RoundTrips:
    """Count every ``send_packed_command``: one per command, or one per pipeline execute."""
    return count_redis_round_trips(monkeypatch)
