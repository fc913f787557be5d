"""The writer stage every mode shares: batches, dedup, one transaction, remember after commit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from workbench.db.connections import Connections
from workbench.db.postgres import PostgresStore
from workbench.db.redis_cache import RedisCache
from workbench.errors import StorageDataError, StorageUnavailableError
from workbench.ingestion import PageWriter, ReadyPage, RetryOptions, UnitResult
from workbench.ingestion.report import writer_names
from workbench.ingestion.workers import RetryWrappers
from workbench.processing import ProcessedBatch, ProcessedRecord, Reject
from workbench.sources import WorkUnit

SOURCE = "writer"


class Clock:
    """A clock a test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        """Return the current time."""
        return self.now


def page(number: int, records: int = 10, *, rejects: int = 0, resource: str = "posts") -> ReadyPage:
    """A processed page ``number`` of new records (ids from its number) and rejects."""
    first = (number - 1) * records
    batch = ProcessedBatch(
        resource,
        [
            ProcessedRecord(resource, str(i), {"id": i}, f"c{i}")
            for i in range(first + 1, first + records + 1)
        ],
        [Reject(resource, None, f"bad {number}-{i}", "broken") for i in range(rejects)],
    )
    unit = WorkUnit(resource, number, f"http://api/{resource}?_page={number}")
    ready = ReadyPage(unit, "main", (0.0, 0.1, 0.2), batch, fetched=records + rejects)
    ready.response = f"1\n[{number}]".encode()
    return ready


@pytest.fixture
def make_writer(postgres_dsn: str, redis_url: str) -> Any:
    """``make_writer(batch_rows, cache=, attempts=, writers=)``: a writer on the test services."""
    made: list[Any] = []

    def make(
        batch_rows: int = 25, *, cache: bool = True, attempts: int = 3, writers: int = 1
    ) -> PageWriter:
        connections = Connections(postgres_dsn, redis_url if cache else None, cache_namespace="t")
        store, redis = connections.store(), connections.cache()
        store.ensure_schema()
        made.extend([store, redis])
        options = RetryOptions(attempts=attempts, base=0.001, cap=0.001)
        wrappers = RetryWrappers()
        return PageWriter(
            store,
            redis,
            source=SOURCE,
            run_id="run-1",
            retrying=lambda fn: wrappers.wrap(options, fn),
            clock=Clock(),
            batch_rows=batch_rows,
            connections=writers,
        )

    yield make
    for thing in made:
        if thing is not None:
            thing.close()


def count_batches(store: PostgresStore, monkeypatch: pytest.MonkeyPatch) -> list[list[int]]:
    """Note the rows of each page of every transaction the store writes."""
    write_pages = store.write_pages
    batches: list[list[int]] = []

    def counting(source: str, pages: Any, *args: Any, **kwargs: Any) -> Any:
        batches.append([len(records) + len(rejects) for records, rejects in pages])
        return write_pages(source, pages, *args, **kwargs)

    monkeypatch.setattr(store, "write_pages", counting)
    return batches


class TestBatches:
    """What a batch holds and when it is written."""

    def test_whole_pages_up_to_batch_rows(
        self, make_writer: Callable[..., PageWriter], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Pages of 10 with batch_rows=25: two a batch (a third would not fit), then the rest."""
        writer = make_writer(25)
        batches = count_batches(writer.store, monkeypatch)
        landed = [len(writer.add(page(n))) for n in range(1, 6)]
        assert landed == [0, 0, 2, 0, 2]
        assert [len(r) for r in [writer.flush()]] == [1]
        assert batches == [[10, 10], [10, 10], [10]]
        assert writer.store.count(SOURCE) == 50

    def test_a_page_larger_than_a_batch_goes_alone(
        self, make_writer: Callable[..., PageWriter], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A page over batch_rows is written alone, after what was waiting."""
        writer = make_writer(25)
        batches = count_batches(writer.store, monkeypatch)
        writer.add(page(1))
        assert len(writer.add(page(2, 30))) == 2
        assert batches == [[10], [30]]

    def test_batch_rows_one_is_a_transaction_per_page(
        self, make_writer: Callable[..., PageWriter], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """With batch_rows=1 every page is written as it arrives."""
        writer = make_writer(1)
        batches = count_batches(writer.store, monkeypatch)
        assert [len(writer.add(page(n))) for n in range(1, 4)] == [1, 1, 1]
        assert batches == [[10], [10], [10]]

    def test_rejects_count_towards_a_batch(
        self, make_writer: Callable[..., PageWriter], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A batch's rows are records and rejects: two pages of 6 + 6 fill 25 with the third."""
        writer = make_writer(24)
        batches = count_batches(writer.store, monkeypatch)
        for n in range(1, 3):
            writer.add(page(n, 6, rejects=6))
        assert batches == [[12, 12]]
        assert len(writer.store.rejects(SOURCE)) == 12

    def test_a_page_that_waited_too_long_is_written(
        self, make_writer: Callable[..., PageWriter], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Once its first page has waited linger_s, a batch is written with the next page."""
        writer = make_writer(1000)
        batches = count_batches(writer.store, monkeypatch)
        assert writer.add(page(1)) == []
        writer.clock.now = writer.linger_s  # type: ignore[attr-defined]
        assert len(writer.add(page(2))) == 2
        assert batches == [[10, 10]]

    def test_a_result_written_elsewhere_passes_through(
        self, make_writer: Callable[..., PageWriter], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A result a queue worker already wrote lands as it is, without a transaction."""
        writer = make_writer(1000)
        batches = count_batches(writer.store, monkeypatch)
        done = UnitResult("posts", 3, "u", fetched=10, inserted=10)
        assert writer.add(done) == [done]
        assert batches == []

    def test_a_failed_page_lands_at_once_and_is_recorded(
        self, make_writer: Callable[..., PageWriter]
    ) -> None:
        """A page that failed before the writer is recorded as a reject and not batched."""
        writer = make_writer(1000)
        failed = page(1)
        failed.error = "ServerError: HTTP 500"
        [result] = writer.add(failed)
        assert result.error == "ServerError: HTTP 500"
        [reject] = writer.store.rejects(SOURCE)
        assert (reject["raw"], reject["reason"]) == (failed.unit.ref, "ServerError: HTTP 500")


class TestResults:
    """Each page of a batch gets its own result."""

    def test_counts_stages_and_spans_per_page(self, make_writer: Callable[..., PageWriter]) -> None:
        """Pages written together each count their own records; they share the batch's spans."""
        writer = make_writer(1000)
        writer.add(page(1))
        writer.add(page(2, rejects=2))
        first, second = writer.flush()
        assert (first.inserted, first.rejected, second.inserted, second.rejected) == (10, 0, 10, 2)
        assert first.span is not None and second.span is not None
        assert first.span.persist == second.span.persist
        assert first.span.dedup == second.span.dedup
        assert first.span.writer == second.span.writer == "writer"
        assert first.stage_seconds["fetch"] == pytest.approx(0.1)

    def test_spans_name_the_connection_thread_that_wrote_them(
        self, make_writer: Callable[..., PageWriter]
    ) -> None:
        """With two connections, each batch's spans name its writing thread, writer_0 or _1."""
        writer = make_writer(10, writers=2)
        try:
            results = [result for n in range(1, 7) for result in writer.add(page(n))]
            results += writer.flush()
        finally:
            writer.close()
        names = {result.span.writer for result in results if result.span is not None}
        assert len(results) == 6 and names <= set(writer_names(2)) and names

    def test_a_key_seen_on_two_pages_is_written_once(
        self, make_writer: Callable[..., PageWriter]
    ) -> None:
        """The same record on two pages of a batch is stored once and counted once."""
        writer = make_writer(1000)
        writer.add(page(1))
        writer.add(page(1))
        results = writer.flush()
        assert sum(r.inserted for r in results) == 10
        assert sum(r.unchanged for r in results) == 10
        assert writer.store.count(SOURCE) == 10


class TestDedupAndRemember:
    """Redis before and after the transaction."""

    def test_one_round_trip_before_and_one_after(
        self, make_writer: Callable[..., PageWriter], round_trips: Any
    ) -> None:
        """A batch of two resources costs one dedup round trip and one to remember it."""
        writer = make_writer(1000)
        writer.cache.client.ping()  # type: ignore[union-attr]
        round_trips.reset()
        writer.add(page(1))
        writer.add(page(1, resource="comments"))
        writer.flush()
        assert round_trips.count == 2

    def test_records_seen_and_responses_cached_after_the_commit(
        self, make_writer: Callable[..., PageWriter]
    ) -> None:
        """After a write, a second batch of the same records writes nothing; responses cached."""
        writer = make_writer(1000)
        writer.add(page(1))
        writer.flush()
        cache: RedisCache = writer.cache  # type: ignore[assignment]
        assert cache.get_response(page(1).unit.ref) == page(1).response
        writer.add(page(1))
        [again] = writer.flush()
        assert (again.inserted, again.unchanged) == (0, 10)

    def test_a_failed_page_is_not_remembered(
        self, make_writer: Callable[..., PageWriter], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A page whose write failed stays unseen and uncached, so the next run writes it."""
        writer = make_writer(1000)
        refuse_page(writer.store, "11", monkeypatch)
        for n in (1, 2, 3):
            writer.add(page(n))
        results = writer.flush()
        assert [r.error is not None for r in results] == [False, True, False]
        cache: RedisCache = writer.cache  # type: ignore[assignment]
        assert cache.get_response(page(2).unit.ref) is None
        assert cache.unseen(SOURCE, page(2).batch.records) == page(2).batch.records
        assert cache.unseen(SOURCE, page(1).batch.records) == []


def refuse_page(store: PostgresStore, external_id: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the store refuse, as bad data, any write holding the record ``external_id``."""
    write_pages = store.write_pages

    def refusing(source: str, pages: Any, *args: Any, **kwargs: Any) -> Any:
        if any(r.external_id == external_id for records, _ in pages for r in records):
            raise StorageDataError("refused")
        return write_pages(source, pages, *args, **kwargs)

    monkeypatch.setattr(store, "write_pages", refusing)


class TestFailures:
    """A batch that cannot be written."""

    def test_refused_data_is_retried_page_by_page(
        self, make_writer: Callable[..., PageWriter], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A batch refused for its data is written page by page; only the bad page fails."""
        writer = make_writer(1000)
        refuse_page(writer.store, "11", monkeypatch)
        for n in (1, 2, 3):
            writer.add(page(n))
        first, second, third = writer.flush()
        assert (first.inserted, third.inserted) == (10, 10)
        assert second.error == "StorageDataError: refused"
        assert writer.store.count(SOURCE) == 20

    def test_unavailable_database_ends_the_run_after_retries(
        self, make_writer: Callable[..., PageWriter], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """When Postgres stays unavailable through the retries, the writer raises: run over."""
        writer = make_writer(1000, attempts=3)
        calls: list[int] = []

        def unavailable(*args: Any, **kwargs: Any) -> Any:
            calls.append(1)
            raise StorageUnavailableError("gone")

        monkeypatch.setattr(writer.store, "write_pages", unavailable)
        writer.add(page(1))
        writer.add(page(2))
        with pytest.raises(StorageUnavailableError, match="gone"):
            writer.flush()
        assert len(calls) == 3
        cache: RedisCache = writer.cache  # type: ignore[assignment]
        assert cache.unseen(SOURCE, page(1).batch.records) == page(1).batch.records

    def test_retries_of_a_write_count_once_for_the_batch(
        self, make_writer: Callable[..., PageWriter], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A batch retried twice counts two persist retries, on its first page only."""
        writer = make_writer(1000, attempts=5)
        write_pages = writer.store.write_pages
        failures = iter([StorageUnavailableError("gone")] * 2)

        def flaky(*args: Any, **kwargs: Any) -> Any:
            error = next(failures, None)
            if error is not None:
                raise error
            return write_pages(*args, **kwargs)

        monkeypatch.setattr(writer.store, "write_pages", flaky)
        writer.add(page(1))
        writer.add(page(2))
        first, second = writer.flush()
        assert (first.retries, second.retries) == ({"persist": 2}, {})
        assert first.inserted == second.inserted == 10

    def test_without_redis_every_record_is_written(
        self, make_writer: Callable[..., PageWriter]
    ) -> None:
        """With no cache the writer writes everything and Postgres alone keeps it idempotent."""
        writer = make_writer(1000, cache=False)
        writer.add(page(1))
        assert writer.flush()[0].inserted == 10
        writer.add(page(1))
        assert writer.flush()[0].unchanged == 10
