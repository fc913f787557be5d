"""The accounting on hand-made stores: what was served, landed, rejected, doubled or lost."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from workbench.db.postgres import PostgresStore
from workbench.local_api.data import Dataset
from workbench.processing import ProcessedRecord, Processor, Reject
from workbench.reliability.accounting import (
    Accounting,
    SourceSpec,
    account,
    failed_page,
    holdings,
)

#: One user: ten posts, in two pages of five.
SPEC = SourceSpec(seed=0, scale=0.1, resources=("posts",), page_size=5)
SOURCE = "local"
PAGE_2 = "http://127.0.0.1:8000/posts?_page=2&_limit=5"


def posts(start: int, stop: int, seed: int = 0) -> list[ProcessedRecord]:
    """Return posts ``start:stop`` of the data set, processed as the pipeline does."""
    records = Dataset(seed=seed, scale=0.1).slice("posts", start, stop)
    return Processor("posts").process_many(records).records


@pytest.fixture
def store(postgres_dsn: str) -> Iterator[PostgresStore]:
    """A store on the test's empty database."""
    with PostgresStore(postgres_dsn) as store:
        store.ensure_schema()
        yield store


class TestAccount:
    """The five numbers of a row, from the database and the data set."""

    def test_everything_landed(self, store: PostgresStore, postgres_dsn: str) -> None:
        """Every served record stored once: nothing rejected, doubled or lost."""
        store.write_batch(SOURCE, posts(0, 10))
        assert account(postgres_dsn, SOURCE, SPEC) == Accounting(10, 10, 0, 0, 0)

    def test_a_failed_page_rejects_its_records(
        self, store: PostgresStore, postgres_dsn: str
    ) -> None:
        """A page recorded as failed (its URL as the reject) accounts for its five records."""
        store.write_batch(SOURCE, posts(0, 5))
        store.record_failure(SOURCE, "posts", PAGE_2, "ServerError: HTTP 500")
        assert account(postgres_dsn, SOURCE, SPEC) == Accounting(10, 5, 5, 0, 0)

    def test_records_neither_stored_nor_refused_are_lost(
        self, store: PostgresStore, postgres_dsn: str
    ) -> None:
        """A page that vanished without a trace is five records lost."""
        store.write_batch(SOURCE, posts(0, 5))
        assert account(postgres_dsn, SOURCE, SPEC) == Accounting(10, 5, 0, 0, 5)

    def test_a_record_reject_accounts_for_its_record(
        self, store: PostgresStore, postgres_dsn: str
    ) -> None:
        """A record refused by id counts as rejected, not lost."""
        kept = [record for record in posts(0, 10) if record.external_id != "3"]
        store.write_batch(SOURCE, kept, [Reject("posts", "3", "{}", "missing field")])
        assert account(postgres_dsn, SOURCE, SPEC) == Accounting(10, 9, 1, 0, 0)

    def test_a_row_under_an_id_never_served_is_a_duplicate(
        self, store: PostgresStore, postgres_dsn: str
    ) -> None:
        """A row the source never sent counts as duplicated, and cannot hide a lost one."""
        stray = ProcessedRecord("posts", "999", {"id": 999}, "x")
        store.write_batch(SOURCE, [*posts(0, 9), stray])
        assert account(postgres_dsn, SOURCE, SPEC) == Accounting(10, 10, 0, 1, 1)

    def test_a_page_that_failed_then_landed_is_landed(
        self, store: PostgresStore, postgres_dsn: str
    ) -> None:
        """A failed page written by a later run counts once, as landed."""
        store.record_failure(SOURCE, "posts", PAGE_2, "ServerError: HTTP 500")
        store.write_batch(SOURCE, posts(0, 10))
        assert account(postgres_dsn, SOURCE, SPEC) == Accounting(10, 10, 0, 0, 0)

    def test_other_sources_are_not_counted(self, store: PostgresStore, postgres_dsn: str) -> None:
        """Rows and rejects of another source name neither land nor reject this run's records."""
        store.write_batch("other", posts(0, 10))
        store.record_failure("other", "posts", PAGE_2, "ServerError: HTTP 500")
        assert account(postgres_dsn, SOURCE, SPEC) == Accounting(10, 0, 0, 0, 10)

    def test_an_unreadable_record_is_rejected_without_an_id(
        self, store: PostgresStore, postgres_dsn: str
    ) -> None:
        """A keyless served record (too deep to parse) is rejected by a keyless reject."""
        spec = SourceSpec(0, 0.1, ("posts",), 5, hostile=("deep",))
        store.write_batch(SOURCE, [*posts(0, 5), *posts(6, 10)])
        assert account(postgres_dsn, SOURCE, spec) == Accounting(10, 9, 0, 0, 1)
        store.write_batch(SOURCE, [], [Reject("posts", None, "[[[", "invalid JSON")])
        assert account(postgres_dsn, SOURCE, spec) == Accounting(10, 9, 1, 0, 0)


class TestHoldings:
    """What the source holds, page by page."""

    def test_plain_pages_hold_the_data_set_in_order(self) -> None:
        """Two pages of five ids each, no keyless record."""
        pages = [(h.page, list(map(str, h.ids)), h.keyless) for h in holdings(SPEC)]
        assert pages == [(1, ["1", "2", "3", "4", "5"], 0), (2, ["6", "7", "8", "9", "10"], 0)]

    def test_a_page_of_repeated_ids_holds_no_new_record(self) -> None:
        """``duplicate_ids`` serves page 1's ids again on page 2."""
        spec = SourceSpec(0, 0.1, ("posts",), 5, hostile=("duplicate_ids",))
        second = list(holdings(spec))[1]
        assert (list(second.ids), second.keyless) == (["1", "2", "3", "4", "5"], 0)

    def test_an_unparseable_record_holds_no_id(self) -> None:
        """``deep`` replaces page 2's first record with one no parser reads: keyless."""
        spec = SourceSpec(0, 0.1, ("posts",), 5, hostile=("deep",))
        second = list(holdings(spec))[1]
        assert (list(second.ids), second.keyless) == (["7", "8", "9", "10"], 1)

    def test_header_kinds_change_no_page(self) -> None:
        """A lying count changes what a run reads, not what the source holds."""
        spec = SourceSpec(0, 0.1, ("posts",), 5, hostile=("total_high", "link_loop"))
        assert [list(h.ids) for h in holdings(spec)] == [list(h.ids) for h in holdings(SPEC)]


class TestFailedPage:
    """Which rejects are whole pages."""

    @pytest.mark.parametrize(
        ("raw", "page"),
        [
            (PAGE_2, ("posts", 2)),
            ("http://h:1/users/3/comments?_page=12&_limit=10", ("comments", 12)),
            ('{"id": 3}', None),
            ("http://h:1/posts?_start=0&_end=10", None),
        ],
    )
    def test_a_page_url_names_its_resource_and_page(
        self, raw: str, page: tuple[str, int] | None
    ) -> None:
        """A reject's text is a failed page when it is a page URL, else a record."""
        assert failed_page(raw) == page
