"""What a run reads: the first units, the follow-ups they reveal, each with its cached response.

A run cannot know an API's size before reading it: the first page of each resource tells
the total (``X-Total-Count`` or the ``Link`` header), and the other pages follow from it.
Headers can lie, so the ``Frontier`` checks them against the pages themselves: a short page
ends its resource (no more follow-ups are planned past it, however many pages the header
promised), and a last page that is full and says a next page follows is read past, a chunk
at a time, until a short one. Before units are scheduled, their cached responses are looked
up ``LOOKUP_CHUNK`` at a time, one Redis round trip per chunk.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from typing import Protocol

from workbench.db.redis_cache import RedisCache
from workbench.ingestion.pages import Job, units_context
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


class Frontier:
    """Where each resource's data ends, as the pages read so far show it.

    ``see`` each page as it comes back. ``follow_ups`` stops planning a resource at its end,
    and ``within`` drops the jobs already planned past it (cache lookups run a chunk ahead);
    ``beyond`` returns the next units when a resource's last page read was full and said
    more follow. Pages come ready to write or already written (a queue's workers write):
    either way a ``PageOutcome``. Reads and writes are single dict operations, safe across
    threads.
    """

    #: Units read past a lying count per round.
    CHUNK = 10

    def __init__(self, source: Source, max_pages: int | None) -> None:
        self.source = source
        self.max_pages = max_pages
        self._ends: dict[str, int] = {}
        self._last: dict[str, PageOutcome] = {}
        self._totals: dict[str, int] = {}

    def see(self, page: PageOutcome) -> None:
        """Learn from a page: a short one ends its resource; remember the furthest page."""
        size, resource, number = self.source.page_size, page.resource, page.page
        if page.error is None and size is not None and page.fetched < size:
            self._ends[resource] = min(number, self._ends.get(resource, number))
        last = self._last.get(resource)
        if last is None or number > last.page:
            self._last[resource] = page
        if number == 1 and page.total_pages is not None:
            self._totals[resource] = page.total_pages

    def missed(self, page: PageOutcome) -> bool:
        """Tell whether a first-round page was a guess past the data (no result; retries counted).

        That is an empty page past the end page 1 announced, or past a short page.
        """
        if page.error is not None or page.fetched or page.page == 1:
            return False
        total = self._totals.get(page.resource)
        return self.past_end(page) or (total is not None and page.page > total)

    def past_end(self, place: WorkUnit | PageOutcome) -> bool:
        """Tell whether a unit or page lies past its resource's known end."""
        return place.page > self._ends.get(place.resource, place.page)

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

    def within(self, jobs: Iterable[Job]) -> Iterator[Job]:
        """Yield the jobs not past their resource's end, as known when each is taken."""
        return (job for job in jobs if not self.past_end(job.unit))

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
        return found


def with_cached(units: Iterable[WorkUnit], cache: RedisCache | None) -> Iterator[Job]:
    """Pair each unit with its cached response (None without a cache), a chunk per round trip."""
    iterator = iter(units)
    while chunk := list(itertools.islice(iterator, LOOKUP_CHUNK)):
        with bind_context(**units_context(chunk)):
            cached = cache.get_responses([unit.ref for unit in chunk]) if cache else []
        yield from itertools.starmap(Job, itertools.zip_longest(chunk, cached))
