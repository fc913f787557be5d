"""What travels between the pipeline's stages: jobs in, ready pages out.

    units  ->  Job (a unit and its cached response)  ->  handle  ->  ReadyPage  ->  writer
                                                       (fetch_page -> Fetched -> finish)

A ``Job`` is what a mode schedules: a unit of work plus the response the cache holds for it
(looked up for many units at once before scheduling). ``Fetched`` is a job halfway: its page
fetched, not yet processed (the async lanes hand it on so they can fetch again at once).
A ``ReadyPage`` is what handling a job
gives back, from whichever thread, process or task handled it: the processed records and
rejects, or the reason the page failed, and when each stage ran. Both are small and picklable,
so they cross process boundaries as well as threads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from workbench.processing import ProcessedBatch
from workbench.sources.source import RawPage, WorkUnit

if TYPE_CHECKING:
    from workbench.ingestion.workers import Worker

__all__ = ["Fetched", "Job", "ReadyPage", "units_context"]


class Job(NamedTuple):
    """One unit of work to handle, with its cached response (None: not cached)."""

    unit: WorkUnit
    cached: bytes | None = None


@dataclass(slots=True)
class ReadyPage:
    """A unit fetched and processed (or failed), waiting for the writer.

    ``marks`` are seconds since the run started: when the fetch started, when it ended (and
    processing started) and when processing ended; a failed page has only the first.
    """

    unit: WorkUnit
    worker: str
    marks: tuple[float, ...]
    batch: ProcessedBatch
    total_pages: int | None = None
    fetched: int = 0
    #: Whether the source said a next page follows (``Link: rel="next"``).
    more: bool = False
    cache_hit: bool = False
    #: The response to cache once the page is written (None: from the cache, or not cacheable).
    response: bytes | None = None
    #: Retries by stage so far (the writer adds its own).
    retries: dict[str, int] = field(default_factory=dict)
    #: Why the page failed before reaching the writer, as ``Type: message``.
    error: str | None = None

    @classmethod
    def begin(cls, unit: WorkUnit, worker: str, started: float) -> ReadyPage:
        """Start the page of ``unit``, handled by ``worker`` from ``started`` on (no records)."""
        return cls(unit, worker, (started,), ProcessedBatch(unit.resource, [], []))

    @property
    def resource(self) -> str:
        """Return the page's resource."""
        return self.unit.resource

    @property
    def page(self) -> int:
        """Return the page's number."""
        return self.unit.page

    @property
    def rows(self) -> int:
        """Return how many records and rejects the page adds to a batch."""
        return len(self.batch.records) + len(self.batch.rejects)


class Fetched(NamedTuple):
    """A job's page fetched, not yet processed: its records, or the failed page (``raw`` None)."""

    page: ReadyPage
    raw: RawPage | None = None
    #: When the fetch ended, in seconds since the run started.
    at: float = 0.0
    #: Whose processors process it (the worker that fetched it).
    worker: Worker | None = None


def units_context(units: Sequence[WorkUnit]) -> dict[str, Any]:
    """Return the log fields naming several units at once: resource(s) and page (or range)."""
    resources = sorted({unit.resource for unit in units})
    numbers = sorted(unit.page for unit in units)
    page = str(numbers[0]) if len(numbers) == 1 else f"{numbers[0]}-{numbers[-1]}"
    return {"resource": ",".join(resources), "page": page, "pages": len(units)}
