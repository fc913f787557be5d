"""The Frontier's plan: the first pages, WAIT while page 1 is out, then the pages it announced."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from workbench.ingestion.pages import Job
from workbench.ingestion.planning import LOOKUP_CHUNK, Frontier, first_units, with_cached
from workbench.ingestion.scheduling import WAIT, Wait
from workbench.sources.http_api import HttpApiSource
from workbench.sources.source import WorkUnit

SIZE = 10


@dataclass
class Outcome:
    """A page as the Frontier reads it (a ``PageOutcome``), without fetching anything."""

    resource: str
    page: int
    fetched: int = SIZE
    total_pages: int | None = None
    more: bool = False
    error: str | None = None


@pytest.fixture
def frontier() -> Frontier:
    """A Frontier over an API source with pages of ``SIZE`` (nothing is ever fetched)."""
    return Frontier(HttpApiSource("http://127.0.0.1:9", page_size=SIZE), max_pages=None)


def take(units: Iterator[WorkUnit | Wait], count: int) -> list[int | Wait]:
    """Return the page numbers of the next ``count`` units (a ``WAIT`` as itself)."""
    return [unit if unit is WAIT else unit.page for unit in itertools.islice(units, count)]


class TestPlan:
    """``plan``: the units of a run, as one stream that learns from the pages seen."""

    def test_first_pages_then_the_announced_ones(self, frontier: Frontier) -> None:
        """Once page 1 tells the total, the stream goes on with the pages not yet asked."""
        units = frontier.plan(["posts"], ahead=3)
        assert take(units, 3) == [1, 2, 3]
        frontier.settle(Outcome("posts", 1, total_pages=6))
        assert take(units, 10) == [4, 5, 6]
        assert frontier.beyond() == []

    def test_page_1_alone_by_default(self, frontier: Frontier) -> None:
        """Without a read-ahead, only page 1 is asked before it answers."""
        assert take(frontier.plan(["posts"]), 2) == [1, WAIT]

    def test_max_pages_caps_the_first_pages_too(self) -> None:
        """A read-ahead beyond ``max_pages`` asks for no page past it."""
        frontier = Frontier(HttpApiSource("http://127.0.0.1:9", page_size=SIZE), max_pages=2)
        assert take(frontier.plan(["posts"], ahead=5), 3) == [1, 2, WAIT]

    def test_waits_while_page_1_is_out(self, frontier: Frontier) -> None:
        """Until page 1 answers, the stream says WAIT instead of guessing further."""
        units = frontier.plan(["posts"], ahead=2)
        assert take(units, 5) == [1, 2, WAIT, WAIT, WAIT]
        frontier.settle(Outcome("posts", 2))
        assert take(units, 1) == [WAIT]
        frontier.settle(Outcome("posts", 1, total_pages=4))
        assert take(units, 5) == [3, 4]

    def test_a_failed_page_1_ends_the_wait(self, frontier: Frontier) -> None:
        """A failed page 1 tells no count: the stream ends, and what follows is up to ``beyond``."""
        units = frontier.plan(["posts"], ahead=2)
        assert take(units, 3) == [1, 2, WAIT]
        frontier.settle(Outcome("posts", 1, fetched=0, error="SourceError: 500"))
        assert take(units, 5) == []

    def test_a_short_first_page_needs_no_follow_ups(self, frontier: Frontier) -> None:
        """A resource whose page 1 is short (and says so) has nothing to follow."""
        units = frontier.plan(["posts"], ahead=3)
        assert take(units, 3) == [1, 2, 3]
        frontier.settle(Outcome("posts", 1, fetched=4, total_pages=1))
        assert take(units, 10) == []
        assert frontier.beyond() == []

    def test_each_resource_follows_its_own_page_1(self, frontier: Frontier) -> None:
        """Resources' first pages come first; each one's follow-ups follow its own page 1."""
        units = frontier.plan(["posts", "users"], ahead=2)
        pairs = [(u.resource, u.page) for u in itertools.islice(units, 4) if u is not WAIT]
        assert pairs == [("posts", 1), ("posts", 2), ("users", 1), ("users", 2)]
        frontier.settle(Outcome("users", 1, total_pages=3))
        assert take(units, 1) == [WAIT]  # posts comes first, and its page 1 is still out
        frontier.settle(Outcome("posts", 1, total_pages=3))
        assert [(u.resource, u.page) for u in units if u is not WAIT] == [
            ("posts", 3),
            ("users", 3),
        ]

    def test_max_pages_bounds_first_pages_and_follow_ups(self) -> None:
        """Neither the first pages nor the follow-ups go past ``max_pages``."""
        frontier = Frontier(HttpApiSource("http://127.0.0.1:9", page_size=SIZE), max_pages=4)
        units = frontier.plan(["posts"], ahead=3)
        assert take(units, 3) == [1, 2, 3]
        frontier.settle(Outcome("posts", 1, total_pages=9))
        assert take(units, 10) == [4]

    def test_units_that_are_not_pages_never_wait(self) -> None:
        """A source whose first units hold no page 1 (a file's chunks) has nothing to wait for."""

        class Chunks(HttpApiSource):
            """First units numbered from 0: no page 1 to wait for."""

            def first_units(self, resource: str, ahead: int = 1) -> list[WorkUnit]:
                """Return one unit numbered 0."""
                return [WorkUnit(resource, 0, "chunk-0")]

            def follow_up_units(
                self, resource: str, total_pages: int | None, max_pages: int | None, after: int = 1
            ) -> Iterator[WorkUnit]:
                """Return nothing: every unit was a first one (``Source``'s default)."""
                return iter(())

        frontier = Frontier(Chunks("http://127.0.0.1:9", page_size=SIZE), max_pages=None)
        assert take(frontier.plan(["posts"], ahead=4), 5) == [0]


class TestWithCached:
    """``with_cached``: a chunk per lookup, ending early at a WAIT."""

    def test_a_wait_ends_a_chunk_and_passes_on(self) -> None:
        """Units before a WAIT become jobs at once; the WAIT follows them, then the rest."""
        first, second = WorkUnit("posts", 1, "a"), WorkUnit("posts", 2, "b")
        jobs = list(with_cached([first, WAIT, second], None))
        assert jobs == [Job(first), WAIT, Job(second)]

    def test_units_are_looked_up_a_chunk_at_a_time(self) -> None:
        """The stream is read a chunk ahead at most, so later units can still change."""
        drawn: list[int] = []

        def units() -> Iterator[WorkUnit]:
            for n in range(1, 3 * LOOKUP_CHUNK):
                drawn.append(n)
                yield WorkUnit("posts", n, str(n))

        jobs = with_cached(units(), None)
        next(jobs)
        assert len(drawn) == LOOKUP_CHUNK

    def test_every_unit_comes_through_over_several_chunks(self) -> None:
        """Full chunks are followed by the next: two and a half chunks make as many jobs."""
        units = [WorkUnit("posts", n, str(n)) for n in range(1, LOOKUP_CHUNK * 5 // 2 + 1)]
        assert list(with_cached(units, None)) == [Job(unit) for unit in units]


class TestSettle:
    """``settle``: which pages land now, and which guesses were no page at all."""

    def test_a_page_with_records_lands_at_once(self, frontier: Frontier) -> None:
        """A page with records lands as it comes, page 1 answered or not."""
        take(frontier.plan(["posts"], ahead=3), 3)
        page = Outcome("posts", 3)
        assert frontier.settle(page) == [page]
        assert not frontier.missed(page)

    def test_an_empty_guess_waits_for_page_1(self, frontier: Frontier) -> None:
        """An empty guess lands with page 1, and is missed when past the total it announces."""
        take(frontier.plan(["posts"], ahead=3), 3)
        empty = Outcome("posts", 3, fetched=0)
        assert frontier.settle(empty) == []
        first = Outcome("posts", 1, total_pages=2)
        assert frontier.settle(first) == [first, empty]
        assert frontier.missed(empty)
        assert not frontier.missed(first)

    def test_page_1_always_lands_even_empty_and_announcing_none(self, frontier: Frontier) -> None:
        """Page 1 is never a guess: empty, with a last link saying page 0, it still lands."""
        take(frontier.plan(["posts"], ahead=3), 3)
        first = Outcome("posts", 1, fetched=0, total_pages=0)
        assert frontier.settle(first) == [first]
        assert not frontier.missed(first)

    def test_an_empty_guess_waits_through_the_other_pages(self, frontier: Frontier) -> None:
        """Only page 1 releases an empty guess: another page landing first leaves it held."""
        take(frontier.plan(["posts"], ahead=3), 3)
        empty = Outcome("posts", 3, fetched=0)
        frontier.settle(empty)
        second = Outcome("posts", 2)
        assert frontier.settle(second) == [second]
        first = Outcome("posts", 1, total_pages=2)
        assert frontier.settle(first) == [first, empty]

    def test_each_page_1_releases_only_its_own_guesses(self, frontier: Frontier) -> None:
        """Page 1 of one resource releases that resource's guesses; the others stay held."""
        take(frontier.plan(["posts", "comments"], ahead=2), 4)
        posts, comments = Outcome("posts", 2, fetched=0), Outcome("comments", 2, fetched=0)
        assert frontier.settle(posts) == frontier.settle(comments) == []
        first_posts = Outcome("posts", 1, total_pages=1)
        assert frontier.settle(first_posts) == [first_posts, posts]
        first_comments = Outcome("comments", 1, total_pages=1)
        assert frontier.settle(first_comments) == [first_comments, comments]

    def test_an_empty_page_within_the_total_is_a_page(self, frontier: Frontier) -> None:
        """An empty guess the total covers is a real (if empty) page: not missed."""
        take(frontier.plan(["posts"], ahead=3), 3)
        empty = Outcome("posts", 3, fetched=0)
        frontier.settle(empty)
        frontier.settle(Outcome("posts", 1, total_pages=5))
        assert not frontier.missed(empty)

    def test_an_empty_announced_page_is_never_missed(self, frontier: Frontier) -> None:
        """A page asked because page 1 announced it lands even when empty (a lying header)."""
        units = frontier.plan(["posts"], ahead=1)
        take(units, 1)
        frontier.settle(Outcome("posts", 1, total_pages=3))
        take(units, 2)
        empty = Outcome("posts", 3, fetched=0)
        assert frontier.settle(empty) == [empty]
        assert not frontier.missed(empty)

    def test_a_failed_guess_is_never_missed(self, frontier: Frontier) -> None:
        """A guess that failed lands at once with its error: the failure is reported."""
        take(frontier.plan(["posts"], ahead=3), 3)
        failed = Outcome("posts", 3, fetched=0, error="SourceError: 500")
        assert frontier.settle(failed) == [failed]
        assert not frontier.missed(failed)


class TestWithin:
    """``within``: jobs past a known end are dropped when taken."""

    def test_a_guess_past_the_total_is_dropped(self, frontier: Frontier) -> None:
        """Guesses taken after page 1 announced fewer pages are never scheduled."""
        units = list(itertools.islice(frontier.plan(["posts"], ahead=6), 6))
        frontier.settle(Outcome("posts", 1, total_pages=3))
        kept = frontier.within(Job(unit) for unit in units if unit is not WAIT)
        assert [job.unit.page for job in kept] == [1, 2, 3]

    def test_an_announced_page_is_kept_until_a_short_page_ends_it(self, frontier: Frontier) -> None:
        """The total bounds only guesses; a short page bounds every page."""
        units = frontier.plan(["posts"], ahead=1)
        take(units, 1)
        frontier.settle(Outcome("posts", 1, total_pages=5))
        announced = [unit for unit in units if unit is not WAIT]
        frontier.settle(Outcome("posts", 3, fetched=2))
        kept = frontier.within(Job(unit) for unit in announced)
        assert [job.unit.page for job in kept] == [2, 3]


class TestBeyond:
    """``beyond``: the pages past a full last page that says more follow."""

    def test_more_past_a_full_last_page_is_read_even_where_guessed(
        self, frontier: Frontier
    ) -> None:
        """A page dropped as a guess past a low total is read when the last page says more."""
        units = take(frontier.plan(["posts"], ahead=6), 6)
        frontier.settle(Outcome("posts", 1, total_pages=2))
        asked = [WorkUnit("posts", n, "") for n in units if isinstance(n, int)]
        assert [job.unit.page for job in frontier.within(Job(unit) for unit in asked)] == [1, 2]
        frontier.settle(Outcome("posts", 2, more=True))
        beyond = frontier.beyond()
        assert [unit.page for unit in beyond] == list(range(3, 3 + Frontier.CHUNK))
        assert [job.unit.page for job in frontier.within(Job(u) for u in beyond)][:2] == [3, 4]


class TestBeyondRules:
    """When ``beyond`` reads past a resource's last page, and how far."""

    def test_a_chunk_past_a_full_last_page_that_says_more(self, frontier: Frontier) -> None:
        """A full last page with ``more`` gives the next CHUNK pages, once per round."""
        frontier.see(Outcome("posts", 4, more=True))
        assert [unit.page for unit in frontier.beyond()] == list(range(5, 5 + Frontier.CHUNK))
        assert frontier.beyond() == []  # the next round's pages decide again

    @pytest.mark.parametrize(
        "last",
        [
            Outcome("posts", 4, more=False),
            Outcome("posts", 4, more=True, error="SourceError: 500"),
            Outcome("posts", 4, fetched=3, more=True),
        ],
        ids=["no-more", "failed", "short"],
    )
    def test_nothing_past_a_last_page_that_ends_it(self, frontier: Frontier, last: Outcome) -> None:
        """No ``more``, a failure or a short page: nothing is read past it."""
        frontier.see(last)
        assert frontier.beyond() == []

    def test_every_resource_that_says_more_gets_its_chunk(self, frontier: Frontier) -> None:
        """Two resources whose last pages say more: both are read past, in one round."""
        frontier.see(Outcome("posts", 2, more=True))
        frontier.see(Outcome("users", 1, more=True))
        found = [(unit.resource, unit.page) for unit in frontier.beyond()]
        assert found[0] == ("posts", 3) and found[Frontier.CHUNK] == ("users", 2)
        assert len(found) == 2 * Frontier.CHUNK

    def test_the_furthest_page_decides(self, frontier: Frontier) -> None:
        """An earlier page saying more does not count once a later page said no more."""
        frontier.see(Outcome("posts", 6, more=False))
        frontier.see(Outcome("posts", 5, more=True))
        assert frontier.beyond() == []

    def test_max_pages_caps_the_chunk(self) -> None:
        """Never past ``max_pages``: the chunk shrinks to what is left, then to nothing."""
        frontier = Frontier(HttpApiSource("http://127.0.0.1:9", page_size=SIZE), max_pages=6)
        frontier.see(Outcome("posts", 4, more=True))
        assert [unit.page for unit in frontier.beyond()] == [5, 6]
        frontier.see(Outcome("posts", 6, more=True))
        assert frontier.beyond() == []


class TestFollowUps:
    """``follow_ups``: everything page 1 announced, planned at once (a queue's ``enqueue``)."""

    def test_the_pages_after_those_read(self, frontier: Frontier) -> None:
        """From the pages read, each resource's follow-ups start after its furthest one."""
        first = [
            Outcome("posts", 1, total_pages=5),
            Outcome("posts", 2),
            Outcome("users", 1, total_pages=2),
        ]
        for page in first:
            frontier.see(page)
        planned = [(unit.resource, unit.page) for unit in frontier.follow_ups(first)]
        assert planned == [("posts", 3), ("posts", 4), ("posts", 5), ("users", 2)]

    def test_the_furthest_page_read_counts_in_any_order(self, frontier: Frontier) -> None:
        """Pages read out of order: the follow-ups still start after the furthest one."""
        first = [Outcome("posts", 3), Outcome("posts", 1, total_pages=5)]
        for page in first:
            frontier.see(page)
        assert [unit.page for unit in frontier.follow_ups(first)] == [4, 5]

    def test_none_past_a_short_page(self, frontier: Frontier) -> None:
        """A short page already read ends its resource's follow-ups, whatever page 1 said."""
        first = [Outcome("posts", 1, total_pages=9), Outcome("posts", 3, fetched=2)]
        for page in first:
            frontier.see(page)
        assert [unit.page for unit in frontier.follow_ups(first)] == []

    def test_a_resource_that_ended_leaves_the_next_its_follow_ups(self, frontier: Frontier) -> None:
        """One resource's follow-ups stopping at its short page do not stop the next one's."""
        first = [
            Outcome("posts", 1, total_pages=5),
            Outcome("posts", 3, fetched=2),
            Outcome("users", 1, total_pages=3),
        ]
        for page in first:
            frontier.see(page)
        planned = [(unit.resource, unit.page) for unit in frontier.follow_ups(first)]
        assert planned == [("users", 2), ("users", 3)]

    def test_only_page_1_announces(self, frontier: Frontier) -> None:
        """Without page 1 among the pages read, nothing is announced; max_pages caps the rest."""
        assert list(frontier.follow_ups([Outcome("posts", 2, total_pages=9)])) == []
        capped = Frontier(frontier.source, max_pages=3)
        first = [Outcome("posts", 1, total_pages=9)]
        capped.see(first[0])
        assert [unit.page for unit in capped.follow_ups(first)] == [2, 3]


class TestSee:
    """``see``: what a page teaches about its resource's end."""

    def test_the_earliest_short_page_is_the_end(self, frontier: Frontier) -> None:
        """Two short pages: the end is the earlier one, in whatever order they came."""
        frontier.see(Outcome("posts", 5, fetched=0))
        frontier.see(Outcome("posts", 3, fetched=4))
        assert not frontier.past_end(WorkUnit("posts", 3, ""))
        assert frontier.past_end(WorkUnit("posts", 4, ""))
        assert not frontier.past_end(WorkUnit("users", 4, ""))

    def test_a_later_short_page_does_not_move_the_end(self, frontier: Frontier) -> None:
        """A short page past the end already known leaves that end where it was."""
        frontier.see(Outcome("posts", 3, fetched=4))
        frontier.see(Outcome("posts", 5, fetched=0))
        assert not frontier.past_end(WorkUnit("posts", 3, ""))
        assert frontier.past_end(WorkUnit("posts", 4, ""))

    def test_a_failed_page_is_no_end(self, frontier: Frontier) -> None:
        """A page that failed held no records, but says nothing about where the data ends."""
        frontier.see(Outcome("posts", 3, fetched=0, error="SourceError: 500"))
        assert not frontier.past_end(WorkUnit("posts", 9, ""))

    def test_a_full_page_is_no_end(self, frontier: Frontier) -> None:
        """A page holding exactly a page's worth of records does not end its resource."""
        frontier.see(Outcome("posts", 3, fetched=SIZE))
        assert not frontier.past_end(WorkUnit("posts", 9, ""))


class TestFirstUnits:
    """``first_units``: every resource's first pages, the read-ahead capped by ``max_pages``."""

    def test_page_1_of_each_resource_by_default(self, frontier: Frontier) -> None:
        """Without a read-ahead, each resource starts with its page 1 alone."""
        units = first_units(frontier.source, ["posts", "users"])
        assert [(unit.resource, unit.page) for unit in units] == [("posts", 1), ("users", 1)]

    @pytest.mark.parametrize(
        ("ahead", "max_pages", "pages"),
        [(3, None, [1, 2, 3]), (5, 2, [1, 2]), (2, 5, [1, 2]), (4, 4, [1, 2, 3, 4])],
    )
    def test_max_pages_caps_the_read_ahead(
        self, frontier: Frontier, ahead: int, max_pages: int | None, pages: list[int]
    ) -> None:
        """The first pages are ``ahead`` of them, never more than ``max_pages``."""
        units = first_units(frontier.source, ["posts"], ahead, max_pages)
        assert [unit.page for unit in units] == pages
