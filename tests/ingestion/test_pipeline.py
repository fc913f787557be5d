"""One pipeline for every mode: the same jobs give the same rows, rejects and stage sequence.

A mode only schedules; these tests hold it to that. The same pages (valid records, invalid
ones and a page that always fails) go through every mode with batching on (the default) and
off (a transaction per page), and everything stored and reported must agree.
"""

from __future__ import annotations

import inspect
from typing import Any

import psycopg2
import pytest

from workbench.ingestion import DEFAULT_BATCH_ROWS, MODES, Ingestor
from workbench.local_api import Dataset

#: 25 posts (four invalid) and 12 comments: pages of 10, so 3 + 2 pages.
POSTS: list[Any] = Dataset(seed=5, scale=0.5).slice("posts", 0, 25)
POSTS[2] = {**POSTS[2], "userId": "one"}
POSTS[11] = 42
POSTS[13] = {key: value for key, value in POSTS[13].items() if key != "title"}
COMMENTS: list[Any] = Dataset(seed=5, scale=0.5).slice("comments", 0, 12)
#: The same pages with text every cleaning rule touches, an extra field, a nested object,
#: a float id and an element no JSON parser takes (a lone surrogate): one more reject.
HOSTILE_POSTS: list[Any] = [dict(post) if type(post) is dict else post for post in POSTS]
HOSTILE_POSTS[0]["title"] = " NUL\x00 and CRLF\r\n, tab\t and NEL\x85\u2028 "
HOSTILE_POSTS[1]["body"] = "no-break\xa0\xa0space, cafe\u0301, \U0001f600\r\r\n\n  end "
HOSTILE_POSTS[4]["body"] = "a lone \ud800 half"
HOSTILE_POSTS[5]["id"] = 6.0
HOSTILE_POSTS[6]["meta"] = {"tags": "x\x00y", "seen": True}
HOSTILE_POSTS[7]["score"] = 0.5
HOSTILE_COMMENTS = [{**comment, "email": comment["email"].upper()} for comment in COMMENTS]


@pytest.fixture(params=(1, DEFAULT_BATCH_ROWS), ids=("per-page", "batched"))
def batch_rows(request: pytest.FixtureRequest) -> int:
    """A transaction per page, then the default batches."""
    return int(request.param)


def stored_rows(dsn: str, source: str) -> dict[str, Any]:
    """Return every row and reject of ``source``, without the columns that name a run."""
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT resource, external_id, data, checksum FROM ingested_data"
            " WHERE source = %s ORDER BY 1, 2",
            (source,),
        )
        rows = cur.fetchall()
        cur.execute(
            "SELECT resource, reject_key, external_id, raw, reason, occurrences"
            " FROM ingest_rejects WHERE source = %s ORDER BY 1, 2",
            (source,),
        )
        rejects = cur.fetchall()
    conn.close()
    return {"rows": rows, "rejects": rejects}


class TestSameResultInEveryMode:
    """Modes differ only in scheduling, batching only in transactions."""

    def test_rows_and_rejects_identical_across_modes_and_batching(
        self, serve_records: Any, build: Any, postgres_dsn: str
    ) -> None:
        """Every mode, per page or batched, stores the same rows and the same rejects."""
        url = serve_records({"posts": POSTS, "comments": COMMENTS})
        found = {}
        for mode in MODES:
            for rows in (1, DEFAULT_BATCH_ROWS):
                name = f"{mode}-{rows}"
                report = build(mode, url, name=name, batch_rows=rows).run()
                assert report.ok, report.failed_pages
                assert (report.pages, report.rejected) == (5, 3)
                found[name] = stored_rows(postgres_dsn, name)
        first = found["sync-1"]
        assert len(first["rows"]) == 25 - 3 + 12
        assert len(first["rejects"]) == 3
        assert all(result == first for result in found.values())

    def test_the_pandas_processor_stores_what_the_per_record_one_does(
        self, serve_records: Any, build: Any, postgres_dsn: str
    ) -> None:
        """Every mode with ``processor="pandas"`` stores the rows and rejects of ``records``."""
        url = serve_records({"posts": HOSTILE_POSTS, "comments": HOSTILE_COMMENTS})
        report = build("sync", url, name="records").run()
        assert (report.ok, report.rejected, report.processor) == (True, 4, "records")
        expected = stored_rows(postgres_dsn, "records")
        for mode in MODES:
            report = build(mode, url, name=mode, processor="pandas").run()
            assert (report.ok, report.processor) == (True, "pandas"), report.failed_pages
            assert stored_rows(postgres_dsn, mode) == expected, mode

    def test_every_page_passes_the_stages_in_order(
        self, mode: str, batch_rows: int, serve_records: Any, build: Any
    ) -> None:
        """Each page is fetched, processed, deduplicated and persisted, in that order."""
        url = serve_records({"posts": POSTS, "comments": COMMENTS})
        report = build(mode, url, batch_rows=batch_rows).run()
        assert len(report.spans) == 5
        for span in report.spans:
            stages = (span.fetch, span.process, span.dedup, span.persist)
            assert all(stage is not None for stage in stages)
            marks = [mark for stage in stages for mark in stage]  # type: ignore[union-attr]
            assert marks == sorted(marks)
        assert set(report.stage_seconds) == {"fetch", "process", "dedup", "persist"}

    def test_a_page_that_fails_fails_alone_in_every_mode(
        self, mode: str, batch_rows: int, api: Any, build: Any, expected: Any
    ) -> None:
        """A page that never answers is the only failure, whether or not pages are batched."""
        from workbench.local_api import FaultConfig

        api.set_faults(FaultConfig(always_fail=("/comments?_page=4&",)))
        ingestor = build(mode, api.url, batch_rows=batch_rows)
        report = ingestor.run()
        assert [(f["resource"], f["page"]) for f in report.failed_pages] == [("comments", 4)]
        assert ingestor.store.count("local") == expected.records - 10


def transaction_pages(dsn: str, source: str) -> list[int]:
    """Return how many pages of 10 records each transaction that wrote ``source`` held.

    Read from what Postgres stored (rows written by one transaction share its ``xmin``), not
    by patching a store: a queue's workers write from processes of their own.
    """
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM ingested_data WHERE source = %s GROUP BY xmin::text", (source,)
        )
        sizes = [rows // 10 for (rows,) in cur.fetchall()]
    conn.close()
    return sizes


class TestBatching:
    """How many transactions a run takes."""

    def test_batch_rows_sets_the_transactions(
        self, mode: str, api: Any, build: Any, expected: Any, postgres_dsn: str
    ) -> None:
        """One per page with batch_rows=1; with 100 rows (10 pages), one per 10 pages.

        A queue's tasks are its transactions, and its first ones are cut before the page size
        is known: one transaction more at most.
        """
        for rows, transactions in ((1, expected.pages), (100, -(-expected.pages // 10))):
            # A long linger: batches are cut by size alone however slow the machine is.
            name = f"b{rows}"
            ingestor = build(mode, api.url, cache=False, name=name, batch_rows=rows, linger_s=60)
            assert ingestor.run().ok
            sizes = transaction_pages(postgres_dsn, f"b{rows}")
            assert sum(sizes) == expected.pages
            assert max(sizes) == rows // 10 or rows == 1
            if mode == "queue":
                assert transactions <= len(sizes) <= transactions + 1
            else:
                assert len(sizes) == transactions

    def test_no_linger_writes_each_page_as_it_comes(
        self, mode: str, api: Any, build: Any, expected: Any, postgres_dsn: str
    ) -> None:
        """With linger_s=0 no page waits for a batch to fill: one transaction per page."""
        if mode == "queue":
            pytest.skip("a queue task is one transaction, the unit of delivery and retry")
        ingestor = build(mode, api.url, cache=False, name="l0", batch_rows=1000, linger_s=0)
        assert ingestor.run().ok
        assert transaction_pages(postgres_dsn, "l0") == [1] * expected.pages


class TestModesOnlySchedule:
    """A mode file says how jobs are scheduled and nothing else."""

    #: What a mode may define: its name, how it schedules, and what its executor needs.
    ALLOWED = {
        "mode",
        "schedule",
        "aschedule",
        "executor",
        "in_flight",
        "default_write_connections",
    }

    @pytest.mark.parametrize("mode", sorted(MODES))
    def test_no_mode_has_a_page_path_of_its_own(self, mode: str) -> None:
        """A mode class defines only scheduling methods; the page path lives in the base."""
        cls = MODES[mode]
        own = {name for name in vars(cls) if not name.startswith("_")}
        assert own <= self.ALLOWED, f"{cls.__name__} defines {sorted(own - self.ALLOWED)}"
        assert cls.__bases__ == (Ingestor,)

    @pytest.mark.parametrize("mode", sorted(MODES))
    def test_every_mode_file_is_short(self, mode: str) -> None:
        """A mode's module stays readable on one screen."""
        source = inspect.getsource(inspect.getmodule(MODES[mode]))  # type: ignore[arg-type]
        assert len(source.splitlines()) <= 60
