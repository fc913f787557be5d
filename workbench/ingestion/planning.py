"""What a run reads: the first units, the follow-ups they reveal, each with its cached response.

A run cannot know an API's size before reading it: the first page of each resource tells
the total (``X-Total-Count`` or the ``Link`` header), and the other pages follow from it.
``Frontier.plan`` is the units of a run as one stream: each resource's first pages (page 1
and guesses at the next, so a mode with room for many does not wait for page 1 alone), then
``WAIT`` until page 1 answers, then the follow-ups it announced, while the other first pages
are still in flight: no round waits for its slowest page, and no page is asked for on a
guess beyond the first ones. A guess that comes back empty waits for its page 1
(``settle``): past the end page 1 announced, it was no page at all (``missed``: no result,
its retries counted). Headers can lie, so the ``Frontier`` checks them against the pages
themselves: a short page
ends its resource (no more follow-ups are planned past it, however many pages the header
promised), and a last page that is full and says a next page follows is read past, a chunk
at a time, until a short one. Before units are scheduled, their cached responses are looked
up ``LOOKUP_CHUNK`` at a time, one Redis round trip per chunk.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Protocol, TypeVar, overload

from workbench.db.redis_cache import RedisCache
from workbench.ingestion.pages import Job, units_context
from workbench.ingestion.scheduling import WAIT, Wait
from workbench.logging_setup import bind_context
from workbench.sources.source import Source, WorkUnit

__all__ = ["LOOKUP_CHUNK", "Frontier", "PageOutcome", "first_units", "with_cached"]

#: Units whose cached responses are looked up in one round trip.
LOOKUP_CHUNK = 64


def first_units(
    source: Source, resources: Sequence[str], ahead: int = 1, max_pages: int | None = None
) -> list[WorkUnit]:
    """Return every resource's first units (for an API: pages 1..``ahead``).

    Page 1 tells the total; the others start at once instead of waiting for it (a request
    wasted only where a resource is smaller), never past ``max_pages``.
    """
    if max_pages is not None:
        ahead = min(ahead, max_pages)
    return [unit for resource in resources for unit in source.first_units(resource, ahead)]


class PageOutcome(Protocol):
    """What the ``Frontier`` reads of a page: a ``ReadyPage`` or an already written one's result."""

    @property
    def resource(self) -> str:
        """The page's resource."""

    @property
    def page(self) -> int:
        """The page's number."""

    @property
    def total_pages(self) -> int | None:
        """How many pages the source announced (page 1), if it did."""

    @property
    def fetched(self) -> int:
        """How many records the page held."""

    @property
    def more(self) -> bool:
        """Whether the source said a next page follows."""

    @property
    def error(self) -> str | None:
        """Why the page failed, if it did."""


P = TypeVar("P", bound=PageOutcome)
#: Jobs, with or without a ``WAIT`` among them.
J = TypeVar("J", Job, Job | Wait)


class Frontier:
    """Where each resource's data ends, as the pages read so far show it.

    ``plan`` the run's units and ``settle`` each page as it comes back (``see`` only learns
    from it). Planning stops at a resource's known end, and ``within`` drops the jobs
    already planned past it (cache lookups run a chunk ahead); ``beyond`` returns the next
    units when a resource's last page read was full and said more follow. ``follow_ups``
    plans at once from pages already read (a queue's ``enqueue``). Pages come ready to write
    or already written (a queue's workers write): either way a ``PageOutcome``. Reads and
    writes are single set and dict operations, safe across threads.
    """

    #: Units read past a lying count per round.
    CHUNK = 10

    def __init__(self, source: Source, max_pages: int | None) -> None:
        self.source = source
        self.max_pages = max_pages
        self._ends: dict[str, int] = {}
        self._last: dict[str, PageOutcome] = {}
        self._totals: dict[str, int] = {}
        #: Resources whose page 1 has come back (with a total or not).
        self._firsts: set[str] = set()
        #: The furthest page asked for per resource.
        self._asked: dict[str, int] = {}
        #: Resources whose page 1 was asked for: their follow-ups wait for it.
        self._asked_first: set[str] = set()
        #: Pages asked for before their page 1 answered: a guess past the end is no page.
        self._guesses: set[tuple[str, int]] = set()
        #: Empty guesses waiting for their page 1, to tell whether they were pages at all.
        self._held: list[Any] = []

    def plan(self, resources: Sequence[str], ahead: int = 1) -> Iterator[WorkUnit | Wait]:
        """Yield every resource's first ``ahead`` units, then each one's follow-ups as known.

        Until a resource's page 1 has answered, the stream yields ``WAIT``: the mode lets a
        page in flight finish and hands it over before it asks again.
        """
        for unit in first_units(self.source, resources, ahead, self.max_pages):
            yield self._ask(unit, guess=unit.page > 1)
        for resource in resources:
            while resource in self._asked_first and resource not in self._firsts:
                yield WAIT
            yield from self._announced(resource)

    def _announced(self, resource: str) -> Iterator[WorkUnit]:
        """Yield the pages ``resource``'s page 1 announced that were not asked for yet."""
        total, asked = self._totals.get(resource), self._asked.get(resource, 1)
        for unit in self.source.follow_up_units(resource, total, self.max_pages, asked):
            if self.past_end(unit):
                break  # in page order: the rest are past it too
            yield self._ask(unit)

    def _ask(self, unit: WorkUnit, guess: bool = False) -> WorkUnit:
        """Note that ``unit`` is asked for (and whether as a guess); return it."""
        self._asked[unit.resource] = max(unit.page, self._asked.get(unit.resource, 0))
        if unit.page == 1:
            self._asked_first.add(unit.resource)
        if guess:
            self._guesses.add((unit.resource, unit.page))
        else:  # asked again as known (more past a full last page): a guess no longer
            self._guesses.discard((unit.resource, unit.page))
        return unit

    def settle(self, page: P) -> list[P]:
        """See ``page``; return the pages now known to land (an empty guess waits for page 1).

        A held guess always comes back with its page 1: guesses are asked only in the first
        round, after their page 1, and every mode hands back every page it started.
        """
        self.see(page)
        resource = page.resource
        if resource not in self._firsts and self._empty_guess(page):
            self._held.append(page)
            return []
        if page.page != 1 or not self._held:
            return [page]
        waited = [held for held in self._held if held.resource == resource]
        self._held = [held for held in self._held if held.resource != resource]
        return [page, *waited]

    def _empty_guess(self, page: PageOutcome) -> bool:
        """Tell whether ``page`` is a guess that came back with no records and no error."""
        guess = (page.resource, page.page) in self._guesses
        return guess and page.error is None and not page.fetched

    def see(self, page: PageOutcome) -> None:
        """Learn from a page: a short one ends its resource; remember the furthest page."""
        size, resource, number = self.source.page_size, page.resource, page.page
        if page.error is None and size is not None and page.fetched < size:
            self._ends[resource] = min(number, self._ends.get(resource, number))
        last = self._last.get(resource)
        if last is None or number > last.page:
            self._last[resource] = page
        if number == 1:
            self._firsts.add(resource)
            if page.total_pages is not None:
                self._totals[resource] = page.total_pages

    def missed(self, page: PageOutcome) -> bool:
        """Tell whether a page was a guess past the data (no result; retries counted).

        That is an empty guess past the end page 1 announced, or past a short page.
        """
        return self._empty_guess(page) and self.past_end(page)

    def past_end(self, place: WorkUnit | PageOutcome) -> bool:
        """Tell whether a unit or page lies past its resource's known end.

        That is past a short page or, for a guess, past the total page 1 announced.
        """
        resource, number = place.resource, place.page
        if number > self._ends.get(resource, number):
            return True
        total = self._totals.get(resource)
        return total is not None and number > total and (resource, number) in self._guesses

    def follow_ups(self, first: Iterable[PageOutcome]) -> Iterator[WorkUnit]:
        """Yield the units the first pages announce, each resource's only up to its end."""
        first = list(first)
        read: dict[str, int] = {}
        for page in first:
            read[page.resource] = max(read.get(page.resource, 0), page.page)
        for page in first:
            if page.page != 1:
                continue
            resource, total = page.resource, page.total_pages
            units = self.source.follow_up_units(resource, total, self.max_pages, read[resource])
            for unit in units:
                if self.past_end(unit):
                    break  # in page order: the rest are past it too
                yield unit

    def within(self, jobs: Iterable[J]) -> Iterator[J]:
        """Yield the jobs not past their resource's end, as known when each is taken."""
        return (job for job in jobs if job is WAIT or not self.past_end(job.unit))

    def beyond(self) -> list[WorkUnit]:
        """Return the next units of resources whose last page read was full and said more."""
        found = []
        for resource, last in self._last.items():
            number = last.page
            if last.error is None and last.more and resource not in self._ends:
                count = self.CHUNK
                if self.max_pages is not None:
                    count = min(count, self.max_pages - number)
                found += self.source.units_after(resource, number, max(0, count))
        self._last.clear()  # a resource comes back only through the pages of this round
        return [self._ask(unit) for unit in found]


@overload
def with_cached(units: Iterable[WorkUnit], cache: RedisCache | None) -> Iterator[Job]: ...


@overload
def with_cached(
    units: Iterable[WorkUnit | Wait], cache: RedisCache | None
) -> Iterator[Job | Wait]: ...


def with_cached(units: Iterable[WorkUnit | Wait], cache: RedisCache | None) -> Iterator[Job | Wait]:
    """Pair each unit with its cached response (None without a cache), a chunk per round trip.

    A chunk ends early at a ``WAIT``, which passes on after it.
    """
    iterator = iter(units)
    while True:
        chunk: list[WorkUnit] = []
        waiting = False
        for unit in itertools.islice(iterator, LOOKUP_CHUNK):
            if unit is WAIT:
                waiting = True
                break
            chunk.append(unit)
        if chunk:
            with bind_context(**units_context(chunk)):
                cached = cache.get_responses([unit.ref for unit in chunk]) if cache else []
            yield from itertools.starmap(Job, itertools.zip_longest(chunk, cached))
        if waiting:
            yield WAIT
        elif len(chunk) < LOOKUP_CHUNK:
            return
