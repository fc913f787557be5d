"""The async mode's batched writes, on the real Postgres and Redis, reading the local API."""

from __future__ import annotations

import time
from typing import Any

import pytest

from workbench.errors import StorageDataError
from workbench.local_api import ServerHandle


def slow_counting(ingestor: Any, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Make each batch write slow (so pages pile up) and note how many pages each one held."""
    write_pages = ingestor.store.write_pages
    batches: list[int] = []

    def counting(source: str, pages: Any, *args: Any, **kwargs: Any) -> Any:
        batches.append(len(pages))
        time.sleep(0.02)
        return write_pages(source, pages, *args, **kwargs)

    monkeypatch.setattr(ingestor.store, "write_pages", counting)
    return batches


class TestBatchedWrites:
    """Pages that are ready together are written together."""

    def test_fewer_transactions_than_pages_and_nothing_lost(
        self,
        api: ServerHandle,
        build: Any,
        expected: Any,
        stored: Any,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """While a write is slow the next batch grows; every page still counts once."""
        ingestor = build("async", api.url)
        batches = slow_counting(ingestor, monkeypatch)
        report = ingestor.run()
        assert report.ok
        assert sum(batches) == expected.pages
        assert len(batches) < expected.pages
        assert (report.pages, report.inserted) == (expected.pages, expected.records)
        assert stored(ingestor.store) == expected.checksums

    def test_pages_of_one_batch_share_its_write_interval(
        self, api: ServerHandle, build: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Each page's span ends with its batch's write, which starts after it was processed."""
        ingestor = build("async", api.url)
        batches = slow_counting(ingestor, monkeypatch)
        report = ingestor.run()
        writes = {span.persist for span in report.spans}
        assert len(writes) == len(batches)
        for span in report.spans:
            assert span.process is not None and span.persist is not None
            assert span.process[1] <= span.persist[0]

    def test_stage_seconds_are_shared_not_repeated(
        self, api: ServerHandle, build: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A batch's write time is split among its pages, so the persist total is its own length."""
        ingestor = build("async", api.url)
        slow_counting(ingestor, monkeypatch)
        report = ingestor.run()
        writes = {span.persist for span in report.spans}
        total = sum(end - start for start, end in writes)
        assert report.stage_seconds["persist"] == pytest.approx(total, rel=1e-6)


class TestFailedBatches:
    """A batch that cannot be written."""

    def test_refused_data_fails_only_its_page_which_stays_unseen(
        self,
        api: ServerHandle,
        build: Any,
        expected: Any,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """Refused as a batch, the pages are written one by one: only the bad page fails."""
        ingestor = build("async", api.url)
        write_pages, write_batch = ingestor.store.write_pages, ingestor.store.write_batch

        def has_bad(records: Any) -> bool:
            return any((r.resource, r.external_id) == ("posts", "11") for r in records)

        def refuse_pages(source: str, pages: Any, *args: Any, **kwargs: Any) -> Any:
            if any(has_bad(records) for records, _ in pages):
                raise StorageDataError("refused")
            return write_pages(source, pages, *args, **kwargs)

        def refuse_batch(source: str, records: Any, *args: Any, **kwargs: Any) -> Any:
            if has_bad(records):
                raise StorageDataError("refused")
            return write_batch(source, records, *args, **kwargs)

        monkeypatch.setattr(ingestor.store, "write_pages", refuse_pages)
        monkeypatch.setattr(ingestor.store, "write_batch", refuse_batch)
        report = ingestor.run()
        assert [(f["resource"], f["page"]) for f in report.failed_pages] == [("posts", 2)]
        assert ingestor.store.count("local") == expected.records - 10
        again = build("async", api.url).run()
        assert again.ok
        assert (again.inserted, again.unchanged) == (10, expected.records - 10)
