"""Shared fixtures: real Postgres and Redis (embedded unless configured), the local source API."""

from __future__ import annotations

import json
import multiprocessing.forkserver
import os
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from socketserver import BaseServer
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
import redis.asyncio.connection
import redis.connection
import requests
from hypothesis import HealthCheck, settings

from workbench.db.postgres import PostgresStore
from workbench.exercises.probes import RoundTrips, count_redis_round_trips
from workbench.local_api import FaultConfig, ServerHandle, serve_in_thread
from workbench.processing import Processor
from workbench.services import Services, ensure_services
from workbench.services.scratch import scratch_database

FIXTURE = Path(__file__).parent / "fixtures" / "jsonplaceholder-data.json"
#: What the ingestion and queue tests read: two resources in pages of 10, from "local".
RESOURCES = ("posts", "comments")
PAGE_SIZE = 10
SOURCE_NAME = "local"
SOURCE_SEED = 7
#: Databases a test run may claim and flush; database 0 (a user's runs, notebooks) never.
TEST_REDIS_DBS = range(1, 16)
#: How long a claim lasts if its run dies without giving it back.
CLAIM_TTL_S = 4 * 3600

# mutmut (``make mutants``) runs pytest several times in one process, so a property test in a
# class meets a new instance each time, which Hypothesis flags although the tests keep no
# state on ``self``; derandomised, a mutant is judged by the same examples on every run.
settings.register_profile(
    "mutmut", suppress_health_check=[HealthCheck.differing_executors], derandomize=True
)
if os.environ.get("MUTANT_UNDER_TEST"):
    settings.load_profile("mutmut")


def _forget_the_parents_forkserver() -> None:
    """In a forked child, let multiprocessing start a fork server of its own when needed."""
    server = multiprocessing.forkserver._forkserver  # type: ignore[attr-defined]
    server._forkserver_address = server._forkserver_alive_fd = None
    server._forkserver_pid = server._inherited_fds = None
    server._lock = threading.Lock()


# mutmut forks a child per mutant from a process whose clean run already started
# multiprocessing's fork server. The child inherits that server's pid, which is not its own
# child, so its first process pool failed (ChildProcessError from waitpid) and every mutant
# whose tests reached a multiprocess mode was "killed" after ~50 s, whatever it changed.
if "mutmut" in sys.modules:
    os.register_at_fork(after_in_child=_forget_the_parents_forkserver)


@dataclass(frozen=True)
class Expected:
    """What one complete ingestion of an API must store and report."""

    #: Records per resource, as the API announces them in ``X-Total-Count``.
    totals: dict[str, int]
    #: external_id -> checksum per resource, from processing the served records ourselves.
    checksums: dict[str, dict[str, str]]

    @classmethod
    def of(cls, handle: ServerHandle) -> Expected:
        """Ask the API for its totals and checksum the records its data set serves."""
        totals, checksums = {}, {}
        for resource in RESOURCES:
            response = requests.get(f"{handle.url}/{resource}?_page=1&_limit=1", timeout=10)
            totals[resource] = int(response.headers["X-Total-Count"])
            records = handle.dataset.slice(resource, 0, totals[resource])
            batch = Processor(resource).process_many(records)
            checksums[resource] = {r.external_id: r.checksum for r in batch.records}
        return cls(totals, checksums)

    @property
    def records(self) -> int:
        """Return the number of records of all resources."""
        return sum(self.totals.values())

    @property
    def pages(self) -> int:
        """Return the number of pages of ``PAGE_SIZE`` of all resources."""
        return sum(-(-total // PAGE_SIZE) for total in self.totals.values())


def stored_checksums(store: PostgresStore, source: str = SOURCE_NAME) -> dict[str, dict[str, str]]:
    """Return external_id -> checksum of every stored record of ``source``, per resource."""
    return {resource: store.checksums(source, resource) for resource in RESOURCES}


@pytest.fixture(scope="session")
def expected_of() -> Callable[[ServerHandle], Expected]:
    """``Expected.of``: what ingesting an API must store."""
    return Expected.of


@pytest.fixture
def stored() -> Callable[..., dict[str, dict[str, str]]]:
    """``stored(store, source="local")``: the stored checksums per resource."""
    return stored_checksums


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


@pytest.fixture
def cli_env(postgres_dsn: str, redis_url: str) -> dict[str, str]:
    """The environment of a ``workbench`` command run by a test: its database and Redis."""
    return {**os.environ, "WORKBENCH_POSTGRES_DSN": postgres_dsn, "WORKBENCH_REDIS_URL": redis_url}


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


Served = TypeVar("Served", bound=BaseServer)


@pytest.fixture
def serve_in_threads() -> Iterator[Callable[[Served], Served]]:
    """Serve each server given from a daemon thread; after the test, stop, close and join it."""
    serving: list[tuple[BaseServer, threading.Thread]] = []

    def serve(server: Served) -> Served:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        serving.append((server, thread))
        return server

    yield serve
    for server, thread in serving:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def round_trips(monkeypatch: pytest.MonkeyPatch) -> RoundTrips:
    """Count every ``send_packed_command``: one per command, or one per pipeline execute."""
    return count_redis_round_trips(monkeypatch)
