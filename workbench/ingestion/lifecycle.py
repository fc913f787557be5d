"""A run's life outside its pages: asked to stop, kept alive, recorded however it ends.

* ``Stop``: set by a signal handler (or any caller) to end a run gracefully: no new page
  starts, pages in flight finish and are written, and the run is recorded as interrupted.
* ``forget_unbacked_dedup``: Redis' memory of what was stored is dropped for a resource
  Postgres holds no rows of (a reset database), or dedup would drop every record of it.
* ``RunRecord``: the run's row in ``ingest_runs``. Starting it first marks runs whose
  heartbeat went silent (a process killed with SIGKILL, a lost machine) as ``abandoned``,
  so no run stays ``running`` forever; a thread then beats every ``heartbeat_s`` seconds
  while the run lives. Every statement is retried like a write, and the first one only
  briefly: an unreachable Postgres at start is one clear error, soon.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from workbench.db.postgres import PostgresStore
from workbench.db.redis_cache import RedisCache
from workbench.errors import StorageUnavailableError, WorkbenchError
from workbench.ingestion.workers import RetryOptions

__all__ = ["RunRecord", "Stop", "forget_unbacked_dedup"]

T = TypeVar("T")
log = logging.getLogger("workbench.ingestion")

#: How a run reaches Postgres at its start: a few quick tries, then a clear error.
START_RETRIES = RetryOptions(attempts=3, base=0.25, cap=1.0, quiet=True)


class Stop:
    """A request to end a run gracefully, and why (``SIGTERM``, ``SIGINT``, ...)."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.reason: str | None = None

    def request(self, reason: str) -> None:
        """Ask the run to stop: no new page starts; those in flight finish."""
        self.reason = self.reason or reason
        self._event.set()

    def __bool__(self) -> bool:
        return self._event.is_set()

    def until(self, items: Iterable[T]) -> Iterator[T]:
        """Yield ``items`` until a stop is requested."""
        for item in items:
            if self._event.is_set():
                return
            yield item


class RunRecord:
    """One run's row in ``ingest_runs``: started, kept alive, finished with its status."""

    def __init__(
        self,
        store: PostgresStore,
        retrying: Callable[[Callable[..., Any]], Any],
        run_id: str,
        heartbeat_s: float = 5.0,
    ) -> None:
        self.store = store
        self.retrying = retrying
        self.run_id = run_id
        self.heartbeat_s = heartbeat_s
        self._stopped = threading.Event()
        self._beats: threading.Thread | None = None

    def start(self, mode: str, source: str, resources: Sequence[str]) -> None:
        """Reach Postgres (briefly retried), mark silent runs abandoned, record this one."""
        try:
            START_RETRIES.decorator()(self.store.ensure_schema)()
        except StorageUnavailableError as exc:
            raise StorageUnavailableError(
                f"Postgres at {self.store.where} is unreachable "
                f"(tried {START_RETRIES.attempts} times): {exc}"
            ) from exc
        abandoned = self.store.abandon_stale_runs(after_s=4 * self.heartbeat_s)
        if abandoned:
            log.warning("runs %s stopped beating: marked abandoned", ", ".join(abandoned))
        self.retrying(self.store.start_run)(self.run_id, mode, source, list(resources))
        self._beats = threading.Thread(target=self._beat, name="heartbeat", daemon=True)
        self._beats.start()

    def _beat(self) -> None:
        """Update the heartbeat until the run finishes; a missed beat is only logged."""
        while not self._stopped.wait(self.heartbeat_s):
            try:
                self.store.heartbeat(self.run_id)
            except WorkbenchError as exc:
                log.warning("heartbeat missed: %s", exc)

    def finish(self, status: str, report: Mapping[str, Any]) -> None:
        """Stop beating and record how the run ended; if Postgres is gone, say so and go on.

        A run whose end cannot be recorded stays ``running`` until its silent heartbeat
        marks it ``abandoned``.
        """
        self._stopped.set()
        if self._beats is not None:
            self._beats.join()
        try:
            self.retrying(self.store.finish_run)(self.run_id, status, report)
        except WorkbenchError as exc:
            log.error("could not record the end of run %s: %s", self.run_id, exc)


def forget_unbacked_dedup(
    store: PostgresStore, cache: RedisCache | None, source: str, resources: Iterable[str]
) -> None:
    """Forget what Redis saw of resources Postgres has no rows of (a reset database)."""
    if cache is None:
        return
    for resource in resources:
        if store.count(source, resource) == 0:
            cache.forget(source, resource)
