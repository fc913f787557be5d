"""Everything a notebook needs in one object: services, a local API, one-line ingestion runs.

    from workbench.playground import Playground
    pg = Playground(scale=1.0)                 # services up, local API on a free port
    report = pg.ingest("async", resources=("posts", "comments"))
    pg.store.count(source=pg.source_name)

Notebooks call this instead of wiring services, servers and ingestors themselves, so the
wiring is written (and tested) once. Measurements a notebook wants to reuse later (the
interview summary's trade-off table) go through ``record`` / ``measurements``.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.config import Settings
from workbench.db.postgres import PostgresStore
from workbench.db.redis_cache import RedisCache
from workbench.ingestion import Ingestor, RetryOptions, RunReport
from workbench.local_api import FaultConfig, ServerHandle, serve_in_thread
from workbench.local_api.process_server import ProcessServerHandle, serve_in_process
from workbench.services import Services, ensure_services
from workbench.services.common import file_lock, state_dir


class Playground:
    """Running services plus a local source API, and helpers to ingest from it."""

    def __init__(
        self,
        *,
        scale: float = 1.0,
        seed: int = 0,
        faults: FaultConfig | None = None,
        source_name: str = "notebook",
        separate_process: bool = False,
    ) -> None:
        self.services: Services = ensure_services()
        self.source_name = source_name
        self._stack = contextlib.ExitStack()
        serve: Callable[..., AbstractContextManager[ServerHandle | ProcessServerHandle]] = (
            serve_in_process if separate_process else serve_in_thread
        )
        self.api = self._stack.enter_context(serve(seed=seed, scale=scale, faults=faults))
        self.url: str = self.api.url
        self.store = PostgresStore(self.services.postgres_dsn)
        self.store.ensure_schema()
        # A namespace of its own: notebooks run side by side never touch each other's cache.
        self.cache_namespace = f"wb:pg-{uuid.uuid4().hex[:8]}"
        self.cache = RedisCache(
            self.services.redis_url, namespace=self.cache_namespace, fail_open=True
        )
        atexit.register(self.close)

    def __repr__(self) -> str:
        return f"Playground(url={self.url!r}, source_name={self.source_name!r})"

    def __enter__(self) -> Playground:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def settings(self, **overrides: Any) -> Settings:
        """Return settings pointing at this playground's API and services."""
        values: dict[str, Any] = {
            "base_url": self.url,
            "postgres_dsn": self.services.postgres_dsn,
            "redis_url": self.services.redis_url,
            "use_cache": False,
        }
        values.update(overrides)
        return Settings(**values)

    def ingestor(
        self, mode: str = "sync", *, cpu_cost: int = 0, no_wait: bool = True, **overrides: Any
    ) -> Ingestor:
        """Build an ingestor for ``mode`` against the local API (retries don't really wait)."""
        from workbench.ingestion.factory import build_ingestor

        ingestor = build_ingestor(
            self.settings(mode=mode, **overrides),
            source_name=self.source_name,
            cpu_cost=cpu_cost,
            cache_namespace=self.cache_namespace,
        )
        if no_wait:
            ingestor.retry_options = RetryOptions(
                attempts=ingestor.retry_options.attempts, base=0.0, cap=0.0
            )
        return ingestor

    def ingest(self, mode: str = "sync", **overrides: Any) -> RunReport:
        """Run one ingestion in ``mode`` and return its report."""
        ingestor = self.ingestor(mode, **overrides)
        try:
            return ingestor.run()
        finally:
            ingestor.close()

    def reset(self) -> None:
        """Forget this playground's records: rows, rejects, dedup state and cached responses.

        Only this playground's: its cache namespace is its own, so a notebook running beside
        it keeps its cache.
        """
        self.store.delete_source(self.source_name)
        self.store.delete_rejects(self.source_name)
        self.cache.forget(self.source_name)
        self.cache.forget_responses()

    def count(self, resource: str | None = None) -> int:
        """Return how many records of this playground's source are stored."""
        return self.store.count(source=self.source_name, resource=resource)

    def close(self) -> None:
        """Stop the local API, drop this playground's cache keys and close its connections."""
        self._stack.close()
        self.store.close()
        with contextlib.suppress(Exception):  # at exit Redis may be gone already: nothing to drop
            self.cache.forget()
            self.cache.forget_responses()
        self.cache.close()


MEASUREMENTS_ENV = "WORKBENCH_MEASUREMENTS"


def measurements_file() -> Path:
    """Return the file notebooks record numbers in (``$WORKBENCH_MEASUREMENTS`` overrides)."""
    override = os.environ.get(MEASUREMENTS_ENV)
    return Path(override) if override else state_dir() / "measurements.json"


def record(topic: str, **numbers: float) -> None:
    """Remember numbers a notebook measured (e.g. ``record("gil", threads_s=1.2)``)."""
    path = measurements_file()
    with file_lock(path.with_suffix(".lock")):  # notebooks may run side by side
        data = measurements()
        data.setdefault(topic, {}).update(numbers)
        path.write_text(json.dumps(data, indent=2, sort_keys=True))


def measurements() -> dict[str, dict[str, float]]:
    """Return everything notebooks have recorded so far (empty when nothing has run yet)."""
    with contextlib.suppress(FileNotFoundError, json.JSONDecodeError):
        found: dict[str, dict[str, float]] = json.loads(measurements_file().read_text())
        return found
    return {}


@contextlib.contextmanager
def playground(**kwargs: Any) -> Iterator[Playground]:
    """Open a ``Playground`` for a block and close it afterwards."""
    with Playground(**kwargs) as pg:
        yield pg


@dataclass(frozen=True)
class TimedRun:
    """One run's report and the CPU seconds this process spent on it (child processes not)."""

    report: RunReport
    cpu_seconds: float

    @property
    def core_share(self) -> float:
        """Return how many of this process's cores the run kept busy: CPU seconds per second."""
        return self.cpu_seconds / self.report.seconds if self.report.seconds > 0 else 0.0


def time_modes(
    pg: Playground, modes: Iterable[str], *, repeats: int = 1, **overrides: Any
) -> dict[str, list[TimedRun]]:
    """Run every mode ``repeats`` times on one load, each run from an empty store.

    The modes take turns within each round (sync, threaded, ..., then again), so a slow
    minute on a shared machine hits every mode alike instead of one mode's runs.
    """
    chosen = list(modes)
    runs: dict[str, list[TimedRun]] = {mode: [] for mode in chosen}
    for _ in range(repeats):
        for mode in chosen:
            pg.reset()
            before = time.process_time()
            report = pg.ingest(mode, **overrides)
            runs[mode].append(TimedRun(report, time.process_time() - before))
    pg.reset()
    return runs
