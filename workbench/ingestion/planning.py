"""What a run reads: the first units, the follow-ups they reveal, each with its cached response.

A run cannot know an API's size before reading it: the first page of each resource tells
the total (``X-Total-Count`` or the ``Link`` header), and the other pages follow from it.
Before units are scheduled, their cached responses are looked up ``LOOKUP_CHUNK`` at a time,
one Redis round trip per chunk, so a page already cached never costs a request of its own.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence

from workbench.db.redis_cache import RedisCache
from workbench.ingestion.pages import Job, ReadyPage, units_context
from workbench.ingestion.report import UnitResult
from workbench.logging_setup import bind_context
from workbench.sources.source import Source, WorkUnit

__all__ = ["LOOKUP_CHUNK", "first_units", "follow_ups", "with_cached"]

#: Units whose cached responses are looked up in one round trip.
LOOKUP_CHUNK = 64


def first_units(source: Source, resources: Sequence[str]) -> list[WorkUnit]:
    """Return every resource's first units (for an API: page 1, which tells the total)."""
    return [unit for resource in resources for unit in source.first_units(resource)]


def follow_ups(
    source: Source, first: Iterable[ReadyPage | UnitResult], max_pages: int | None
) -> Iterator[WorkUnit]:
    """Yield the units learnt from the first pages (pages 2..N of each resource).

    The first pages come back ready to write, or already written (a queue's workers write).
    """
    for page in first:
        resource, number = (
            (page.unit.resource, page.unit.page)
            if isinstance(page, ReadyPage)
            else (page.resource, page.page)
        )
        if number == 1:
            yield from source.follow_up_units(resource, page.total_pages, max_pages)


def with_cached(units: Iterable[WorkUnit], cache: RedisCache | None) -> Iterator[Job]:
    """Pair each unit with its cached response (None without a cache), a chunk per round trip."""
    iterator = iter(units)
    while chunk := list(itertools.islice(iterator, LOOKUP_CHUNK)):
        with bind_context(**units_context(chunk)):
            cached = cache.get_responses([unit.ref for unit in chunk]) if cache else []
        yield from itertools.starmap(Job, itertools.zip_longest(chunk, cached))
