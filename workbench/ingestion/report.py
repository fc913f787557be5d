"""The one report every mode produces: counts, stage timings and a span per page.

Workers (threads, processes, tasks) never share a report: each unit of work returns a small
picklable ``UnitResult`` and the runner folds them into the ``RunReport``, so every mode
counts exactly the same way.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

STAGES = ("fetch", "process", "dedup", "persist")
#: The writer's name in spans when it writes in the calling thread; writing threads are
#: named ``writer_0``, ``writer_1``, ... (one per connection).
WRITER = "writer"


def writer_names(connections: int) -> tuple[str, ...]:
    """Return the names a run's writers carry in spans, given its write connections."""
    if connections == 1:
        return (WRITER,)
    # ThreadPoolExecutor names its threads "<prefix>_<n>", the writer's prefix being WRITER.
    return tuple(f"{WRITER}_{index}" for index in range(connections))


@dataclass(frozen=True, slots=True)
class PageSpan:
    """When one page's stages ran (seconds since the run started) and in which worker."""

    resource: str
    page: int
    worker: str
    fetch: tuple[float, float]
    process: tuple[float, float] | None = None
    #: The batch's dedup and persist: shared by every page written in the same batch.
    dedup: tuple[float, float] | None = None
    persist: tuple[float, float] | None = None
    #: Which of the run's writers wrote the batch (``writer``, or ``writer_0``, ``writer_1``
    #: when batches are written on several connections at once).
    writer: str | None = None


@dataclass(slots=True)
class UnitResult:
    """What handling one unit of work (a page) produced; small and picklable."""

    resource: str
    page: int
    url: str
    fetched: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    #: Retries by stage (fetch, persist); a batch's persist retries count on its first page.
    retries: dict[str, int] = field(default_factory=dict)
    cache_hit: bool = False
    #: Whether the worker's Redis answered when the unit ended (True when running without).
    cache_available: bool = True
    total_pages: int | None = None
    #: Whether the source said a next page follows (``Link: rel="next"``).
    more: bool = False
    error: str | None = None
    stage_seconds: dict[str, float] = field(default_factory=dict)
    span: PageSpan | None = None


@dataclass
class RunReport:
    """Totals of one ingestion run, the same shape for every mode."""

    run_id: str
    mode: str
    source: str
    resources: tuple[str, ...]
    #: How pages were processed (``records`` or ``pandas``: see ``workbench.processing``).
    processor: str = "records"
    #: How many connections the run's batches were written on (its timeline has a writer row
    #: for each, whether or not that writer was handed a batch).
    write_connections: int = 1
    pages: int = 0
    fetched: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    retries: int = 0
    #: Retries by stage: fetch (HTTP), persist (Postgres) and redis (its client's reconnects).
    retries_by_stage: dict[str, int] = field(default_factory=dict)
    cache_hits: int = 0
    seconds: float = 0.0
    stage_seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))
    failed_pages: list[dict[str, Any]] = field(default_factory=list)
    spans: list[PageSpan] = field(default_factory=list)
    #: Whether Redis answered the last unit's worker and, at the end, the runner.
    cache_available: bool = True
    #: False while running, and for good when the run was stopped before its end.
    completed: bool = True
    #: Why the run stopped before its end (a signal, Postgres gone), if it did.
    stopped: str | None = None
    #: Whether it stopped because it was asked to (a signal, Ctrl-C): it can resume.
    interrupted: bool = False

    def add(self, result: UnitResult) -> None:
        """Fold one unit's result into the totals."""
        self.pages += 1
        self.fetched += result.fetched
        self.inserted += result.inserted
        self.updated += result.updated
        self.unchanged += result.unchanged
        self.rejected += result.rejected
        self.add_retries(result.retries)
        self.cache_hits += int(result.cache_hit)
        for stage, seconds in result.stage_seconds.items():
            self.stage_seconds[stage] = self.stage_seconds.get(stage, 0.0) + seconds
        if result.error is not None:
            self.failed_pages.append(
                {
                    "resource": result.resource,
                    "page": result.page,
                    "url": result.url,
                    "reason": result.error,
                }
            )
        if result.span is not None:
            self.spans.append(result.span)
        # Workers elsewhere (a queue's) have caches of their own: the latest one to answer
        # tells, with the runner's own at the end.
        self.cache_available = result.cache_available

    def add_retries(self, retries: dict[str, int]) -> None:
        """Count retries by stage into the totals."""
        for stage, count in retries.items():
            if count:
                self.retries_by_stage[stage] = self.retries_by_stage.get(stage, 0) + count
                self.retries += count

    @property
    def ok(self) -> bool:
        """True when the run finished and every page was saved (rejects do not fail a run)."""
        return self.completed and not self.failed_pages

    @property
    def status(self) -> str:
        """Return ``ok``, ``interrupted`` (asked to stop: run again to resume) or ``failed``."""
        if self.interrupted:
            return "interrupted"
        return "ok" if self.ok else "failed"

    @property
    def records_per_second(self) -> float:
        """Fetched records per wall-clock second."""
        return self.fetched / self.seconds if self.seconds > 0 else 0.0

    def summary(self, *, spans: bool = False) -> dict[str, Any]:
        """Return the report as plain JSON-ready data (spans only when asked: they are long)."""
        data = asdict(self)
        data["resources"] = list(self.resources)
        data["status"] = self.status
        data["records_per_second"] = round(self.records_per_second, 1)
        data["seconds"] = round(self.seconds, 4)
        data["stage_seconds"] = {k: round(v, 4) for k, v in self.stage_seconds.items()}
        if spans:
            data["spans"] = [asdict(span) for span in self.spans]
        else:
            del data["spans"]
        return data

    def failure_summary(self) -> str:
        """Name the failed pages in one line, for the end of a run."""
        names = ", ".join(f"{f['resource']} page {f['page']}" for f in self.failed_pages)
        return f"{len(self.failed_pages)} page(s) failed after retries: {names}"
