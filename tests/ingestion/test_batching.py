from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from workbench.ingestion.batching import CachedUnits, PageQueue, ReadyPage, by_resource
from workbench.ingestion.report import UnitResult
from workbench.processing import ProcessedBatch, ProcessedRecord, Reject
from workbench.sources.source import WorkUnit


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine on a fresh event loop."""
    return asyncio.run(coro)


def page(number: int, records: int, resource: str = "posts", rejects: int = 0) -> ReadyPage:
    """A ready page of ``records`` records and ``rejects`` rejects."""
    unit = WorkUnit(resource, number, f"u{number}")
    batch = ProcessedBatch(
        resource,
        [ProcessedRecord(resource, f"{number}-{i}", {}, "c") for i in range(records)],
        [Reject(resource, None, "{}", "bad") for _ in range(rejects)],
    )
    return ReadyPage(unit, UnitResult(resource, number, unit.ref), "t", batch, (0, 0, 0), 1, 1)


class TestPageQueue:
    """Writers take what is ready, up to a number of rows."""

    def test_takes_what_is_waiting_up_to_max_rows(self) -> None:
        """A batch grows with the pages already queued until it holds max_rows rows."""

        async def scenario() -> list[list[int]]:
            queue = PageQueue(10)
            for number in range(1, 6):
                await queue.put(page(number, 3, rejects=1 if number == 2 else 0))
            batches = [await queue.take(max_rows=7), await queue.take(max_rows=7)]
            return [[p.unit.page for p in batch] for batch in batches]

        assert run(scenario()) == [[1, 2], [3, 4, 5]]

    def test_a_writer_does_not_wait_for_more(self) -> None:
        """With one page queued, a writer takes it at once instead of waiting to fill a batch."""

        async def scenario() -> int:
            queue = PageQueue(10)
            await queue.put(page(1, 1))
            batch = await asyncio.wait_for(queue.take(max_rows=1000), timeout=5)
            return len(batch)

        assert run(scenario()) == 1

    def test_each_writer_sees_the_end_once(self) -> None:
        """Closing for two writers ends both, after the pages queued before the end."""

        async def scenario() -> list[list[int]]:
            queue = PageQueue(10)
            taken: list[list[int]] = []

            async def writer() -> None:
                while batch := await queue.take(max_rows=2):
                    taken.append([p.unit.page for p in batch])

            writers = [asyncio.create_task(writer()) for _ in range(2)]
            for number in range(1, 6):
                await queue.put(page(number, 1))
            await queue.close(2)
            await asyncio.wait_for(asyncio.gather(*writers), timeout=5)
            return taken

        taken = run(scenario())
        assert sorted(number for batch in taken for number in batch) == [1, 2, 3, 4, 5]

    def test_full_queue_makes_fetching_wait(self) -> None:
        """Putting a page on a full queue waits until a writer takes some."""

        async def scenario() -> tuple[bool, bool]:
            queue = PageQueue(1)
            await queue.put(page(1, 1))
            blocked = asyncio.create_task(queue.put(page(2, 1)))
            await asyncio.sleep(0.01)
            waited = not blocked.done()
            await queue.take(max_rows=1)
            await asyncio.wait_for(blocked, timeout=5)
            return waited, blocked.done()

        assert run(scenario()) == (True, True)


class TestCachedUnits:
    """Units handed out with their cached responses, looked up a chunk at a time."""

    def test_every_unit_once_with_its_cached_response(self) -> None:
        """Each unit comes out once, paired with what the lookup found for its URL."""
        units = [WorkUnit("posts", n, f"u{n}") for n in range(1, 8)]
        lookups: list[list[str]] = []

        async def lookup(urls: list[str]) -> list[bytes | None]:
            lookups.append(urls)
            await asyncio.sleep(0)
            return [url.encode() if url.endswith(("2", "5")) else None for url in urls]

        async def scenario() -> list[tuple[int, bytes | None]]:
            pending = CachedUnits(units, lookup, chunk=3)
            out = []
            while (item := await pending.next()) is not None:
                out.append((item[0].page, item[1]))
            return out

        assert run(scenario()) == [
            (n, f"u{n}".encode() if n in (2, 5) else None) for n in range(1, 8)
        ]
        assert [len(urls) for urls in lookups] == [3, 3, 1]

    def test_no_task_gives_up_while_units_are_looked_up(self) -> None:
        """Many tasks sharing the units all work: none stops while a lookup is in flight."""
        units = [WorkUnit("posts", n, f"u{n}") for n in range(40)]

        async def slow_lookup(urls: list[str]) -> list[bytes | None]:
            await asyncio.sleep(0.01)
            return [None] * len(urls)

        async def scenario() -> dict[int, int]:
            pending = CachedUnits(units, slow_lookup, chunk=10)
            per_task: dict[int, int] = {}

            async def task(name: int) -> None:
                while await pending.next() is not None:
                    per_task[name] = per_task.get(name, 0) + 1
                    await asyncio.sleep(0.005)

            await asyncio.gather(*(task(i) for i in range(10)))
            return per_task

        per_task = run(scenario())
        assert sum(per_task.values()) == 40
        assert len(per_task) == 10

    def test_without_a_lookup_nothing_is_cached(self) -> None:
        """With no lookup (no cache), every unit comes with None."""

        async def scenario() -> list[bytes | None]:
            pending = CachedUnits([WorkUnit("posts", 1, "u1")], None, chunk=4)
            first = await pending.next()
            assert first is not None
            return [first[1], await pending.next()]

        assert run(scenario()) == [None, None]


class TestByResource:
    """Grouping the records of a batch by resource."""

    def test_records_follow_their_pages_resource(self) -> None:
        """Records are grouped under the resource of the page they came with, in order."""
        pages = [page(1, 0), page(2, 0, resource="comments"), page(3, 0)]
        a, b, c = (ProcessedRecord("x", str(i), {}, "c") for i in range(3))
        assert by_resource(pages, [[a], [b], [c]]) == {"posts": [a, c], "comments": [b]}
