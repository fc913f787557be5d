"""Fixtures for the ingestion tests: the local API, ingestors of every mode, a Redis to kill."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from workbench.db.connections import Connections
from workbench.ingestion import MODES, Ingestor, RetryOptions
from workbench.local_api import FaultConfig, ServerHandle, serve_in_thread
from workbench.queue.options import QueueOptions
from workbench.services.valkey import ThrowawayValkey
from workbench.sources.http_api import HttpApiSource

RESOURCES = ("posts", "comments")
PAGE_SIZE = 10  # as in Expected (tests/conftest.py)
#: Half of JSONPlaceholder: 50 posts and 250 comments, 30 pages of 10 in all.
SCALE = 0.5
SEED = 1
SOURCE_NAME = "local"
#: Enough attempts that the faults the tests inject never exhaust them; no real waiting.
FAST_RETRIES = RetryOptions(attempts=8, base=0.001, cap=0.01)

BuildIngestor = Callable[..., Ingestor]


def page_requests(handle: ServerHandle) -> int:
    """Return how many page requests the API has had since its counters were reset."""
    return sum(handle.stats()["by_resource"].get(resource, 0) for resource in RESOURCES)


@pytest.fixture(params=tuple(MODES))
def mode(request: pytest.FixtureRequest) -> str:
    """Each mode in turn."""
    return str(request.param)


@pytest.fixture(scope="module")
def running_api() -> Iterator[ServerHandle]:
    """One local API per test module, to keep the suite fast."""
    with serve_in_thread(seed=SEED, scale=SCALE) as handle:
        yield handle


@pytest.fixture(scope="module")
def expected(running_api: ServerHandle, expected_of: Callable[[ServerHandle], Any]) -> Any:
    """What ingesting the module's API must store (``Expected``, tests/conftest.py)."""
    return expected_of(running_api)


@pytest.fixture
def api(running_api: ServerHandle) -> ServerHandle:
    """The module's API with no faults, zeroed counters and fresh fault draws."""
    running_api.set_faults(FaultConfig())
    running_api.reset_stats()
    return running_api


@pytest.fixture(scope="module")
def changed_api() -> Iterator[ServerHandle]:
    """A second API like the module's but with another seed: records' contents differ."""
    with serve_in_thread(seed=SEED + 1, scale=SCALE) as handle:
        yield handle


@pytest.fixture
def served_pages() -> Callable[[ServerHandle], int]:
    """``served_pages(api)``: the page requests an API has had since its counters were reset."""
    return page_requests


@pytest.fixture
def build(postgres_dsn: str, redis_url: str) -> Iterator[BuildIngestor]:
    """A factory of ingestors on the test database, all closed after the test.

    ``build(mode, url, cache=True, redis_url=None, name="local", source_options=None,
    dsn=None, **options)`` reads the API at ``url`` (``source_options`` go to
    ``HttpApiSource``) into the test database (or ``dsn``); it caches in the test Redis unless
    ``cache`` is False or another URL is given (the task queue is always on the test Redis).
    """
    made: list[Ingestor] = []
    test_redis = redis_url

    def make(
        mode: str,
        url: str,
        *,
        cache: bool = True,
        redis_url: str | None = None,
        name: str = SOURCE_NAME,
        source_options: dict[str, Any] | None = None,
        dsn: str | None = None,
        **options: Any,
    ) -> Ingestor:
        given = {"page_size": PAGE_SIZE, "timeout_s": 2, **(source_options or {})}
        source = HttpApiSource(url, name=name, **given)
        # The queue (queue mode's broker) is always the test Redis: ``cache`` and ``redis_url``
        # choose the cache, the Redis role a run may lose or go without.
        connections = Connections(
            dsn or postgres_dsn,
            (redis_url or test_redis) if cache else None,
            queue=QueueOptions(url=test_redis),
        )
        options = {
            "resources": RESOURCES,
            "concurrency": 4,
            "workers": 2,
            "retry_options": FAST_RETRIES,
            **options,
        }
        made.append(MODES[mode](source, connections, **options))
        return made[-1]

    yield make
    for ingestor in made:
        ingestor.close()


class _RecordsHandler(BaseHTTPRequestHandler):
    """Answer ``GET /<resource>?_page=N&_limit=K`` from the server's fixed raw records."""

    server: RecordsServer

    def do_GET(self) -> None:
        """Send one page of the resource's records with its ``X-Total-Count``."""
        url = urlsplit(self.path)
        query = {key: int(values[0]) for key, values in parse_qs(url.query).items()}
        records = self.server.records.get(url.path.strip("/"), [])
        start = (query["_page"] - 1) * query["_limit"]
        body = json.dumps(records[start : start + query["_limit"]]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Total-Count", str(len(records)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet."""


class RecordsServer(ThreadingHTTPServer):
    """A paged API serving fixed raw records, valid or not (the local API serves only valid)."""

    daemon_threads = True

    def __init__(self, records: dict[str, list[Any]]) -> None:
        super().__init__(("127.0.0.1", 0), _RecordsHandler)
        self.records = records
        self.url = f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def serve_records(
    serve_in_threads: Callable[[RecordsServer], RecordsServer],
) -> Callable[[dict[str, list[Any]]], str]:
    """Serve fixed raw records per resource from a thread; return the API's URL."""
    return lambda records: serve_in_threads(RecordsServer(records)).url


@pytest.fixture
def doomed_redis() -> Iterator[ThrowawayValkey]:
    """A running throwaway Valkey, killed after the test if the test has not."""
    server = ThrowawayValkey()
    server.start()
    try:
        yield server
    finally:
        server.kill()
