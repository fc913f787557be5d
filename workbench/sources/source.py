"""What every source an ingestor reads from provides: units of work, and how to read one.

A *unit* is a small, idempotent piece of work (a page of an API, a chunk of a file) that any
worker can read on its own, so threads, processes, tasks and later other machines can share a
run. A new source (Kafka, S3) is one new subclass of ``Source``; no ingestor changes.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class WorkUnit:
    """One page of one resource: what to read (``ref``: a URL, a file range) and where it sits."""

    resource: str
    page: int
    ref: str
    start: int = 0  # byte offsets for file chunks; unused by HTTP pages
    stop: int = 0


@dataclass(frozen=True, slots=True)
class Payload:
    """A unit's body as fetched, before parsing, with the paging facts from its headers.

    Only payloads are cached (never parsed pages), so a cache hit goes through the same
    parsing and validation as a fresh answer.
    """

    body: bytes
    total_pages: int | None = None
    #: Whether the source said a next page follows (an HTTP ``Link`` with ``rel="next"``).
    more: bool = False

    def to_bytes(self) -> bytes:
        """Encode for a cache: the page count (and ``+`` if more follow), then the body."""
        head = b"" if self.total_pages is None else str(self.total_pages).encode()
        return head + (b"+" if self.more else b"") + b"\n" + self.body

    @classmethod
    def from_bytes(cls, blob: bytes) -> Payload:
        """Decode what ``to_bytes`` wrote."""
        head, _, body = blob.partition(b"\n")
        more = head.endswith(b"+")
        count = head.rstrip(b"+")
        return cls(body, int(count) if count else None, more)


@dataclass(slots=True)
class RawPage:
    """The parsed records of one unit, as the source gave them, plus what it said about paging."""

    unit: WorkUnit
    records: list[Any]
    total_pages: int | None = None
    from_cache: bool = False
    #: Whether the source said a next page follows.
    more: bool = False


class Source(ABC):
    """A place records come from, read unit by unit; sync ``fetch`` and async ``afetch`` twins."""

    #: Stable name stored with every record (``ingested_data.source``).
    name: str
    #: Whether payloads may go through the response cache (an HTTP API: yes; a local file: no).
    cacheable: bool = False
    #: Records a full unit holds; a shorter one is the last (None: units are not paged).
    page_size: int | None = None

    @abstractmethod
    def first_units(self, resource: str, ahead: int = 1) -> Iterable[WorkUnit]:
        """Return the units that can be read before anything is known about ``resource``.

        ``ahead`` asks for that many to start with where the source could guess them (an API's
        first pages), so a reader with room for several does not wait for the first alone.
        """

    def follow_up_units(
        self, resource: str, total_pages: int | None, max_pages: int | None, after: int = 1
    ) -> Iterator[WorkUnit]:
        """Return the units discovered from the first ones, past unit ``after`` (none here)."""
        return iter(())

    def units_after(self, resource: str, page: int, count: int) -> list[WorkUnit]:
        """Return ``count`` units after ``page``, for when the source has more than it said."""
        return []

    @abstractmethod
    def fetch(self, unit: WorkUnit, session: Any = None) -> Payload:
        """Fetch one unit's payload, blocking; ``session`` is the worker's session, if any."""

    async def afetch(self, unit: WorkUnit, session: Any = None) -> Payload:
        """Fetch one unit's payload without blocking the event loop (default: in a thread)."""
        return await asyncio.to_thread(self.fetch, unit, session)

    @abstractmethod
    def parse(self, unit: WorkUnit, payload: Payload) -> RawPage:
        """Turn a payload into records; a malformed payload raises ``MalformedPayloadError``."""

    def open_session(self) -> Any:
        """Return a per-worker blocking session (None when the source needs none)."""
        return None

    async def aopen_session(self, concurrency: int) -> Any:
        """Return a per-run async session (None when the source needs none)."""
        return None

    @contextmanager
    def session(self) -> Iterator[Any]:
        """Yield a worker's blocking session and close it afterwards (None: needs none)."""
        opened = self.open_session()
        try:
            yield opened
        finally:
            close = getattr(opened, "close", None)
            if close is not None:
                close()

    @asynccontextmanager
    async def asession(self, concurrency: int) -> AsyncIterator[Any]:
        """Yield a run's async session for ``concurrency`` tasks and close it afterwards."""
        opened = await self.aopen_session(concurrency)
        try:
            yield opened
        finally:
            if opened is not None:
                await opened.close()
