"""Every mode under faults: a flaky API, a page that never answers, bad records, Redis lost."""

from __future__ import annotations

from typing import Any

from workbench.ingestion import UnitResult
from workbench.local_api import Dataset, FaultConfig, ServerHandle

#: Every transient fault the API can inject, often enough to hit many pages of a small run.
FLAKY = FaultConfig(
    seed=3,
    error_rate=0.1,
    rate_limit_rate=0.05,
    retry_after_s=0.01,
    drop_rate=0.05,
    malformed_rate=0.1,
)
#: Page 3 of posts (ids 21 to 30 with pages of 10) answers 500 to every attempt.
BROKEN_PAGE = FaultConfig(always_fail=("/posts?_page=3&",))
BROKEN_IDS = {str(i) for i in range(21, 31)}


class TestTransientFaults:
    """Errors, rate limits, dropped connections and truncated bodies that go away."""

    def test_retried_until_every_record_is_saved(
        self, mode: str, api: ServerHandle, build: Any, expected: Any, stored: Any
    ) -> None:
        """Every injected fault is retried: the run ends ok with every record, counted."""
        api.set_faults(FLAKY)
        ingestor = build(mode, api.url)
        report = ingestor.run()
        assert report.ok, report.failed_pages
        assert stored(ingestor.store) == expected.checksums
        assert (report.fetched, report.inserted) == (expected.records, expected.records)
        faults = api.stats()["faults"]
        assert all(faults[kind] > 0 for kind in ("error", "rate_limit", "drop", "malformed"))
        injected = sum(faults.values())
        # aiohttp itself resends a request whose kept-alive connection was dropped, unseen by us.
        fetch_retries = report.retries_by_stage.get("fetch", 0)
        if mode.startswith("async"):
            assert 0 < fetch_retries <= injected
        else:
            assert fetch_retries == injected
        assert report.retries == sum(report.retries_by_stage.values())

    def test_retries_on_guessed_pages_are_counted(
        self, mode: str, api: Any, build: Any, expected: Any, stored: Any
    ) -> None:
        """A first-round guess past a resource's end is dropped, but its retries are reported."""
        # Pages of 50: posts has one page, so a first round of 4 guesses three past its end.
        api.set_faults(FaultConfig(seed=5, error_rate=0.5))
        ingestor = build(mode, api.url, source_options={"page_size": 50})
        report = ingestor.run()
        assert report.ok, report.failed_pages
        assert stored(ingestor.store) == expected.checksums
        injected = sum(api.stats()["faults"].values())
        fetch_retries = report.retries_by_stage.get("fetch", 0)
        if mode.startswith("async"):  # aiohttp resends some dropped requests unseen by us
            assert 0 < fetch_retries <= injected
        else:
            assert fetch_retries == injected


class TestPageThatAlwaysFails:
    """A page that fails on every attempt."""

    def test_named_recorded_and_the_rest_saved(
        self, mode: str, api: ServerHandle, build: Any, expected: Any, stored: Any
    ) -> None:
        """The run fails naming the page, ingest_rejects keeps it, every other page is saved."""
        api.set_faults(BROKEN_PAGE)
        ingestor = build(mode, api.url)
        report = ingestor.run()
        assert not report.ok
        [failed] = report.failed_pages
        assert (failed["resource"], failed["page"]) == ("posts", 3)
        assert "_page=3&" in failed["url"]
        assert failed["reason"].startswith("ServerError: HTTP 500")
        [reject] = ingestor.store.rejects("local")
        assert (reject["resource"], reject["raw"], reject["reason"]) == (
            "posts",
            failed["url"],
            failed["reason"],
        )
        posts = {k: v for k, v in expected.checksums["posts"].items() if k not in BROKEN_IDS}
        assert stored(ingestor.store) == {**expected.checksums, "posts": posts}
        assert report.pages == expected.pages
        assert api.stats()["faults"]["always_fail"] == ingestor.retry_options.attempts

    def test_a_later_run_saves_the_missing_page(
        self, mode: str, api: ServerHandle, build: Any, expected: Any, stored: Any
    ) -> None:
        """Once the page answers again, the next run inserts just its records."""
        api.set_faults(BROKEN_PAGE)
        assert not build(mode, api.url).run().ok
        api.set_faults(FaultConfig())
        ingestor = build(mode, api.url)
        report = ingestor.run()
        assert report.ok
        assert (report.inserted, report.updated) == (len(BROKEN_IDS), 0)
        assert stored(ingestor.store) == expected.checksums


def _posts_with_rejects() -> tuple[list[Any], dict[str | None, str]]:
    """Return 25 raw posts, four of them invalid, and each invalid one's id and reason."""
    posts: list[Any] = Dataset(seed=5, scale=0.5).slice("posts", 0, 25)
    posts[2] = {**posts[2], "userId": "one"}
    posts[11] = 42
    posts[13] = {key: value for key, value in posts[13].items() if key != "title"}
    posts[24] = {**posts[24], "id": 0}
    reasons = {
        "3": "field 'userId': expected int, got str 'one'",
        None: "not a JSON object: number",
        "14": "missing required field 'title'",
        "0": "field 'id': expected a positive int, got 0",
    }
    return posts, reasons


class TestInvalidRecords:
    """Records that break their schema, among valid ones of the same pages."""

    def test_rejected_with_a_reason_while_their_pages_are_saved(
        self, mode: str, serve_records: Any, build: Any
    ) -> None:
        """Invalid records land in ingest_rejects with why; the valid ones of the page are saved."""
        posts, reasons = _posts_with_rejects()
        comments = Dataset(seed=5, scale=0.5).slice("comments", 0, 12)
        ingestor = build(mode, serve_records({"posts": posts, "comments": comments}))
        report = ingestor.run()
        assert report.ok
        assert (report.pages, report.fetched, report.rejected) == (3 + 2, 25 + 12, 4)
        assert report.inserted == 25 - 4 + 12
        valid_posts = {str(i) for i in range(1, 26)} - {"3", "12", "14", "25"}
        assert set(ingestor.store.checksums("local", "posts")) == valid_posts
        assert ingestor.store.count("local", "comments") == 12
        rejects = ingestor.store.rejects("local")
        assert {row["external_id"]: row["reason"] for row in rejects} == reasons
        assert {row["resource"] for row in rejects} == {"posts"}


class TestRedisStopped:
    """Redis dying in the middle of a run."""

    def test_run_completes_with_nothing_lost_or_doubled(
        self,
        mode: str,
        api: ServerHandle,
        build: Any,
        doomed_redis: Any,
        expected: Any,
        stored: Any,
    ) -> None:
        """The run goes on without the cache, saves every record once, reports Redis lost, retried.

        One page per transaction, so Redis dies between batches, with pages still to write.
        """
        landed = 0

        def kill_after_four_pages(result: UnitResult) -> None:
            nonlocal landed
            landed += 1
            if landed == 4:
                doomed_redis.kill()

        ingestor = build(mode, api.url, redis_url=doomed_redis.url, batch_rows=1)
        ingestor.cache.stats.add(retries=3)  # an earlier run's: not this run's
        report = ingestor.run(progress=kill_after_four_pages)
        assert report.ok, report.failed_pages
        # The client's quick reconnects after the kill count as this run's Redis retries.
        retried = ingestor.cache.stats.retries - 3
        assert report.retries_by_stage.get("redis", 0) == retried
        # Queue mode's workers dedup with clients of their own: the run's may send nothing.
        assert retried > 0 or mode == "queue"
        assert (report.pages, report.fetched) == (expected.pages, expected.records)
        assert (report.inserted, report.updated, report.unchanged) == (expected.records, 0, 0)
        assert ingestor.store.count("local") == expected.records
        assert stored(ingestor.store) == expected.checksums
        assert report.cache_available is False
