"""The shared pipeline and runner of every mode, seen through the sync mode."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from workbench.db.connections import Connections
from workbench.errors import (
    ClientError,
    ServerError,
    StorageDataError,
    StorageUnavailableError,
)
from workbench.ingestion import MODES, ReadyPage, RetryOptions, Worker
from workbench.ingestion.pages import Job
from workbench.local_api import FaultConfig, ServerHandle
from workbench.sources.files import FileSource
from workbench.sources.source import Payload, WorkUnit


class Flaky:
    """Something failing with ``error`` on its first ``failures`` calls, then returning 'ok'."""

    def __init__(self, failures: int, error: Exception) -> None:
        self.failures = failures
        self.error = error
        self.calls = 0

    def attempt(self) -> str:
        """Fail or answer."""
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return "ok"


class TestRetryOptions:
    """The retry decorator an ingestor wraps fetches and writes in."""

    def test_plain_functions_wait_with_the_injected_sleep(self) -> None:
        """Transient failures are retried, each wait going through the given sleep."""
        slept: list[float] = []
        flaky = Flaky(2, ServerError("down", status=503))
        call = RetryOptions(attempts=3, base=0.5, cap=1.0, sleep=slept.append).decorator()(
            flaky.attempt
        )
        assert call() == "ok"
        assert flaky.calls == 3
        assert len(slept) == 2
        assert all(0 <= seconds <= 1.0 for seconds in slept)

    def test_async_functions_wait_with_the_injected_sleep(self) -> None:
        """Async code retries through the same injected sleep (no real waiting)."""
        slept: list[float] = []
        flaky = Flaky(1, ServerError("down", status=500))

        async def fetch() -> str:
            return flaky.attempt()

        call = RetryOptions(attempts=2, base=5.0, cap=5.0, sleep=slept.append).decorator()(fetch)
        assert asyncio.run(call()) == "ok"
        assert len(slept) == 1

    def test_permanent_errors_are_not_retried(self) -> None:
        """A permanent error propagates on the first attempt."""
        flaky = Flaky(5, ClientError("gone", status=404))
        call = RetryOptions(attempts=5, sleep=lambda seconds: None).decorator()(flaky.attempt)
        with pytest.raises(ClientError):
            call()
        assert flaky.calls == 1


class TestWorker:
    """What a worker keeps between pages."""

    def test_one_processor_per_resource_built_once(self) -> None:
        """A worker builds a resource's processor on first use and reuses it."""
        worker = Worker("w")
        posts = worker.processor("posts", cpu_cost=0)
        assert worker.processor("posts", cpu_cost=0) is posts
        assert worker.processor("comments", cpu_cost=0).resource == "comments"
        assert set(worker.processors) == {"posts", "comments"}

    def test_the_processor_is_of_the_kind_named(self) -> None:
        """A worker told ``pandas`` builds the vectorised processor, with the CPU cost given."""
        from workbench.processing.vectorised import PandasProcessor

        processor = Worker("w").processor("posts", cpu_cost=3, kind="pandas")
        assert processor == PandasProcessor("posts", cpu_cost=3)


class TestHandle:
    """One job, fetched and processed: the halves and the twins every scheduler builds on."""

    def test_the_async_twin_makes_the_same_page(self, api: ServerHandle, build: Any) -> None:
        """``ahandle`` and ``handle`` give the same records, rejects and page facts."""
        ingestor = build("async", api.url, cache=False)
        job = Job(ingestor.source.unit("posts", 2))
        with ingestor.source.session() as session:
            plain = ingestor.handle(job, Worker("plain", session))

        async def handle_async() -> ReadyPage:
            async with ingestor.source.asession(1) as session:
                return await ingestor.ahandle(job, Worker("twin", session))

        twin = asyncio.run(handle_async())
        assert plain.error is None and twin.error is None
        assert plain.batch == twin.batch and len(plain.batch.records) > 0
        facts = [(p.total_pages, p.fetched, p.more, len(p.marks)) for p in (plain, twin)]
        assert facts[0] == facts[1] == (facts[0][0], 10, True, 3)

    def test_a_failed_fetch_is_finished_as_it_is(self, api: ServerHandle, build: Any) -> None:
        """A page whose fetch failed keeps its error through ``finish``; nothing is processed."""
        api.set_faults(FaultConfig(always_fail=("/posts?_page=1&",)))
        ingestor = build("sync", api.url, cache=False, retry_options=RetryOptions(attempts=1))
        with ingestor.source.session() as session:
            fetched = ingestor.fetch_page(
                Job(ingestor.source.unit("posts", 1)), Worker("w", session)
            )
        assert fetched.raw is None and fetched.page.error is not None
        assert ingestor.finish(fetched) is fetched.page
        assert fetched.page.error.startswith("ServerError") and fetched.page.batch.records == []


class TestResponseCache:
    """Pages kept in Redis between runs."""

    def test_missing_or_unreadable_cached_pages_are_misses(
        self, api: ServerHandle, build: Any
    ) -> None:
        """Nothing cached, or a payload that no longer parses, counts as a miss."""
        ingestor = build("sync", api.url)
        unit = WorkUnit("posts", 1, "u")
        assert ingestor.parse_cached(unit, None) is None
        assert ingestor.parse_cached(unit, b"3\n[{truncated") is None
        page = ingestor.parse_cached(unit, Payload(b'[{"id": 1}]', 3).to_bytes())
        assert (page.records, page.total_pages, page.from_cache) == ([{"id": 1}], 3, True)

    def test_a_corrupt_cached_page_is_fetched_again_and_replaced(
        self, api: ServerHandle, build: Any, expected: Any, served_pages: Any
    ) -> None:
        """A garbled cache entry makes the page come from the API, and the entry is rewritten."""
        ingestor = build("sync", api.url)
        url = ingestor.source.page_url("posts", 1)
        ingestor.cache.set_response(url, b"5\n[{garbled")
        report = ingestor.run()
        assert report.ok
        assert report.cache_hits == 0
        assert served_pages(api) == expected.pages
        unit = ingestor.source.unit("posts", 1)
        assert ingestor.parse_cached(unit, ingestor.cache.get_response(url)) is not None

    def test_a_source_that_is_not_cacheable_is_never_looked_up(
        self, tmp_path: Path, postgres_dsn: str, redis_url: str
    ) -> None:
        """A file's pages are read from the file: with Redis, no response is looked up or kept."""
        path = tmp_path / "posts.jsonl"
        post = {"userId": 1, "title": "t", "body": "b"}
        path.write_text("".join(json.dumps({"id": n, **post}) + "\n" for n in range(1, 26)))
        source = FileSource({"posts": path}, page_size=10)
        ingestor = MODES["sync"](source, Connections(postgres_dsn, redis_url), resources=("posts",))
        try:
            report = ingestor.run()
            cache = ingestor.cache
            assert cache is not None
            assert (report.ok, report.pages, report.inserted) == (True, 3, 25)
            assert (cache.stats.hits, cache.stats.misses, report.cache_hits) == (0, 0, 0)
            assert cache.client.keys(cache.keys.response_pattern()) == []
        finally:
            ingestor.close()


class TestDedup:
    """Redis' memory of stored records, and when it is not to be trusted."""

    def test_a_second_run_writes_nothing_redis_has_seen(
        self, api: ServerHandle, build: Any, expected: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Records Redis saw committed never reach Postgres again."""
        assert build("sync", api.url).run().ok
        ingestor = build("sync", api.url)
        written: list[int] = []
        write_pages = ingestor.store.write_pages

        def counting(source: str, pages: Any, *args: Any, **kwargs: Any) -> Any:
            written.extend(len(records) for records, _ in pages)
            return write_pages(source, pages, *args, **kwargs)

        monkeypatch.setattr(ingestor.store, "write_pages", counting)
        assert ingestor.run().unchanged == expected.records
        assert sum(written) == 0

    def test_an_emptied_database_is_filled_again(
        self, api: ServerHandle, build: Any, expected: Any, stored: Any
    ) -> None:
        """After Postgres is emptied, Redis' memory of its records does not keep them out."""
        ingestor = build("sync", api.url)
        assert ingestor.run().ok
        ingestor.store.truncate()
        report = build("sync", api.url).run()
        assert (report.inserted, report.unchanged) == (expected.records, 0)
        assert stored(ingestor.store) == expected.checksums


class TestPersist:
    """Writing a page and remembering it was written."""

    def test_a_refused_write_fails_its_page_and_leaves_it_unseen(
        self, api: ServerHandle, build: Any, expected: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A page whose write fails is not marked seen in Redis, so the next run saves it."""
        ingestor = build("sync", api.url)
        write_pages = ingestor.store.write_pages

        def refuse_posts_page_2(source: str, pages: Any, *args: Any, **kwargs: Any) -> Any:
            if any((r.resource, r.external_id) == ("posts", "11") for p, _ in pages for r in p):
                raise StorageDataError("refused")
            return write_pages(source, pages, *args, **kwargs)

        monkeypatch.setattr(ingestor.store, "write_pages", refuse_posts_page_2)
        report = ingestor.run()
        assert [(f["resource"], f["page"]) for f in report.failed_pages] == [("posts", 2)]
        assert ingestor.store.count("local") == expected.records - 10
        again = build("sync", api.url).run()
        assert again.ok
        assert (again.inserted, again.unchanged) == (10, expected.records - 10)

    def test_an_unavailable_database_is_retried(
        self, api: ServerHandle, build: Any, expected: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A write that fails because Postgres is briefly gone is retried and saved."""
        ingestor = build("sync", api.url)
        write_pages = ingestor.store.write_pages
        failures = iter([StorageUnavailableError("gone")] * 3)

        def flaky_write(*args: Any, **kwargs: Any) -> Any:
            error = next(failures, None)
            if error is not None:
                raise error
            return write_pages(*args, **kwargs)

        monkeypatch.setattr(ingestor.store, "write_pages", flaky_write)
        report = ingestor.run()
        assert report.ok
        assert ingestor.store.count("local") == expected.records
        assert report.retries_by_stage == {"persist": 3}

    def test_a_failure_that_cannot_be_recorded_does_not_stop_the_run(
        self, api: ServerHandle, build: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """When even recording a failed page fails, the run still goes on and reports it."""
        api.set_faults(FaultConfig(always_fail=("/posts?_page=2&",)))
        ingestor = build("sync", api.url)

        def unreachable(*args: Any, **kwargs: Any) -> None:
            raise StorageUnavailableError("gone")

        monkeypatch.setattr(ingestor.store, "record_failure", unreachable)
        report = ingestor.run()
        assert [(f["resource"], f["page"]) for f in report.failed_pages] == [("posts", 2)]
        assert report.pages > 2


class TestRetrying:
    """The retry wrappers an ingestor builds once and reuses."""

    def test_built_once_per_options_and_function(self, api: ServerHandle, build: Any) -> None:
        """The same function gets the same wrapper until the retry options are replaced."""
        ingestor = build("sync", api.url)
        wrapped = ingestor.retrying(ingestor.store.count)
        assert ingestor.retrying(ingestor.store.count) is wrapped
        assert ingestor.retrying(ingestor.store.truncate) is not wrapped
        ingestor.retry_options = RetryOptions(attempts=2, base=0.0, cap=0.0)
        assert ingestor.retrying(ingestor.store.count) is not wrapped

    def test_statistics_stay_per_call(self, api: ServerHandle, build: Any) -> None:
        """A shared wrapper still reports the attempts of the call just made."""
        ingestor = build("sync", api.url)
        flaky = Flaky(2, ServerError("down", status=503))
        wrapped = ingestor.retrying(flaky.attempt)
        assert wrapped() == "ok"
        assert wrapped.statistics.attempts == 3
        assert wrapped() == "ok"
        assert wrapped.statistics.attempts == 1


class TestPlanning:
    """Which pages a run reads."""

    def test_max_pages_caps_every_resource(
        self, api: ServerHandle, build: Any, expected: Any
    ) -> None:
        """With max_pages=2 only the first two pages of each resource are read."""
        ingestor = build("sync", api.url, max_pages=2)
        report = ingestor.run()
        assert report.pages == 2 * len(expected.totals)
        assert {(s.resource, s.page) for s in report.spans} == {
            (resource, page) for resource in expected.totals for page in (1, 2)
        }
        assert ingestor.store.count("local") == 2 * 10 * len(expected.totals)

    def test_a_failed_first_page_loses_only_its_resource(
        self, api: ServerHandle, build: Any, expected: Any
    ) -> None:
        """Without page 1 a resource's size is unknown: it is skipped, the others are saved."""
        api.set_faults(FaultConfig(always_fail=("/comments?_page=1&",)))
        ingestor = build("sync", api.url)
        report = ingestor.run()
        assert [(f["resource"], f["page"]) for f in report.failed_pages] == [("comments", 1)]
        assert ingestor.store.count("local", "posts") == expected.totals["posts"]
        assert ingestor.store.count("local", "comments") == 0
        assert report.pages == -(-expected.totals["posts"] // 10) + 1


class TestRunRecord:
    """The row each run leaves in ``ingest_runs``."""

    def test_a_run_is_saved_with_its_report(
        self, api: ServerHandle, build: Any, expected: Any
    ) -> None:
        """An ok run is saved with its mode, source, resources, status and summary."""
        ingestor = build("sync", api.url)
        report = ingestor.run()
        [run] = ingestor.store.runs(1)
        assert (run["run_id"], run["mode"], run["source"]) == (report.run_id, "sync", "local")
        assert run["resources"] == list(expected.totals)
        assert run["status"] == "ok"
        assert run["finished_at"] is not None
        assert run["report"]["inserted"] == expected.records

    def test_a_run_with_failed_pages_is_saved_as_failed(
        self, api: ServerHandle, build: Any
    ) -> None:
        """A run with a failed page is saved with status failed and the page in its report."""
        api.set_faults(FaultConfig(always_fail=("/posts?_page=2&",)))
        ingestor = build("sync", api.url)
        ingestor.run()
        [run] = ingestor.store.runs(1)
        assert run["status"] == "failed"
        assert [f["page"] for f in run["report"]["failed_pages"]] == [2]
