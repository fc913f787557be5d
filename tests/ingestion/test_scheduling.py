"""Bounded scheduling: every item's result once, never more than a window in flight, both twins."""

from __future__ import annotations

import asyncio
import contextvars
import random
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Any

import pytest

from workbench.ingestion import scheduling
from workbench.ingestion.scheduling import (
    WAIT,
    Wait,
    abounded_map,
    bounded_map,
    iterate_in_thread,
)


class ScriptedExecutor(Executor):
    """Holds submitted calls unrun; ``finish_some`` runs a random few, in a random order."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.calls: dict[Future[Any], Callable[[], Any]] = {}
        self.most_pending = 0

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        """Queue the call and note how many are pending now."""
        future: Future[Any] = Future()
        self.calls[future] = lambda: fn(*args, **kwargs)
        self.most_pending = max(self.most_pending, len(self.calls))
        return future

    def finish_some(
        self, futures: Iterable[Future[Any]]
    ) -> tuple[set[Future[Any]], set[Future[Any]]]:
        """Run a random non-empty subset of ``futures``; return them and the rest, like wait()."""
        waiting = list(futures)
        done = set(self.rng.sample(waiting, self.rng.randint(1, len(waiting))))
        for future in self.rng.sample(sorted(done, key=id), len(done)):
            call = self.calls.pop(future)
            try:
                future.set_result(call())
            except Exception as exc:
                future.set_exception(exc)
        return done, set(waiting) - done


@pytest.fixture
def scripted(monkeypatch: pytest.MonkeyPatch) -> Callable[[int], ScriptedExecutor]:
    """Make executors whose calls finish only when bounded_map waits, in a seeded order."""

    def make(seed: int) -> ScriptedExecutor:
        executor = ScriptedExecutor(seed)
        monkeypatch.setattr(scheduling, "wait", lambda fs, return_when: executor.finish_some(fs))
        return executor

    return make


def square(x: int) -> int:
    """Return ``x`` squared."""
    return x * x


class TestCompleteness:
    """Every item is handled exactly once, whatever order the work finishes in."""

    @pytest.mark.parametrize("seed", range(5))
    def test_every_result_once_in_any_completion_order(
        self, scripted: Callable[[int], ScriptedExecutor], seed: int
    ) -> None:
        """The results are exactly the items' results, however completions are ordered."""
        results = list(bounded_map(scripted(seed), square, range(50), window=4))
        assert sorted(results) == [square(x) for x in range(50)]

    def test_with_a_real_thread_pool(self) -> None:
        """On real threads every item's result comes back once."""
        with ThreadPoolExecutor(4) as pool:
            results = list(bounded_map(pool, square, range(100), window=8))
        assert sorted(results) == [square(x) for x in range(100)]

    def test_no_items_no_results(self, scripted: Callable[[int], ScriptedExecutor]) -> None:
        """An empty input yields nothing and submits nothing."""
        executor = scripted(0)
        assert list(bounded_map(executor, square, [], window=4)) == []
        assert executor.most_pending == 0

    def test_an_items_error_reaches_the_caller(
        self, scripted: Callable[[int], ScriptedExecutor]
    ) -> None:
        """An exception raised by the work is raised where its result is taken."""

        def fail_on_seven(x: int) -> int:
            if x == 7:
                raise ValueError("seven")
            return x

        with pytest.raises(ValueError, match="seven"):
            list(bounded_map(scripted(1), fail_on_seven, range(20), window=3))


class TestWindow:
    """The bound on work in flight."""

    @pytest.mark.parametrize("window", [1, 3, 8])
    def test_never_more_than_window_pending(
        self, scripted: Callable[[int], ScriptedExecutor], window: int
    ) -> None:
        """At no time are more than ``window`` submitted calls unfinished, and the window fills."""
        executor = scripted(window)
        list(bounded_map(executor, square, range(40), window=window))
        assert executor.most_pending == window

    def test_items_are_drawn_lazily(self, scripted: Callable[[int], ScriptedExecutor]) -> None:
        """Before the first result, no more than ``window`` items have been taken from the input."""
        drawn = 0

        def items() -> Iterator[int]:
            nonlocal drawn
            for x in range(1000):
                drawn += 1
                yield x

        results = bounded_map(scripted(2), square, items(), window=5)
        next(results)
        assert drawn <= 5


class TestContext:
    """What the work sees of the caller's context."""

    def test_threads_see_the_callers_context(self) -> None:
        """On a thread pool each call runs in a copy of the submitting thread's context."""
        name: contextvars.ContextVar[str] = contextvars.ContextVar("name", default="none")
        name.set("run-1")
        with ThreadPoolExecutor(2) as pool:
            seen = set(bounded_map(pool, lambda _: name.get(), range(6), window=2))
        assert seen == {"run-1"}


class TestAsyncTwin:
    """abounded_map: the async twin, a fixed set of lanes."""

    def test_every_item_once_never_more_than_the_lanes_at_once(self) -> None:
        """Every item's result comes back once; no two calls hold the same lane at a time."""
        busy: set[str] = set()
        most = 0

        async def work(item: int, lane: str) -> int:
            nonlocal most
            assert lane not in busy
            busy.add(lane)
            most = max(most, len(busy))
            await asyncio.sleep(0.001 * (item % 3))
            busy.discard(lane)
            return item * item

        async def collect() -> list[int]:
            return [r async for r in abounded_map(work, range(50), ["a", "b", "c"])]

        assert sorted(asyncio.run(collect())) == [x * x for x in range(50)]
        assert most == 3

    def test_a_freed_lane_starts_its_next_call_before_its_result_is_handed_over(self) -> None:
        """While the consumer holds a result, the lane that produced it is already busy again."""
        started: list[int] = []

        async def work(item: int, lane: str) -> int:
            started.append(item)
            await asyncio.sleep(0)
            return item

        async def collect() -> list[tuple[int, list[int]]]:
            seen = []
            async for result in abounded_map(work, range(4), ["only"]):
                seen.append((result, list(started)))
            return seen

        # One lane: when item 0 is handed over, item 1 has started; at the last, nothing new.
        assert asyncio.run(collect()) == [
            (0, [0, 1]),
            (1, [0, 1, 2]),
            (2, [0, 1, 2, 3]),
            (3, [0, 1, 2, 3]),
        ]

    def test_items_are_read_off_the_loop(self) -> None:
        """The blocking iterator is read in a thread, never on the event loop's thread."""
        readers: set[str] = set()

        def items() -> Iterator[int]:
            for x in range(200):
                readers.add(threading.current_thread().name)
                yield x

        async def echo(item: int, lane: int) -> int:
            return item

        async def collect() -> list[int]:
            loop_thread = threading.current_thread().name
            found = [r async for r in abounded_map(echo, items(), [0, 1])]
            assert loop_thread not in readers
            return found

        assert sorted(asyncio.run(collect())) == list(range(200))

    def test_stopping_early_cancels_what_runs(self) -> None:
        """Closing the iterator cancels the calls still in flight."""
        cancelled: list[int] = []

        async def slow(item: int, lane: int) -> int:
            try:
                await asyncio.sleep(0 if item == 0 else 10)
            except asyncio.CancelledError:
                cancelled.append(item)
                raise
            return item

        async def first() -> int:
            results = abounded_map(slow, range(10), [0, 1, 2])
            found = await anext(results)
            await results.aclose()  # type: ignore[attr-defined]
            return found

        assert asyncio.run(first()) == 0
        # Item 0's lane had started item 3 before 0 was handed over: all three are cancelled.
        assert sorted(cancelled) == [1, 2, 3]


class TestWait:
    """``WAIT`` among the items: nothing new starts until a result has been handed over."""

    @staticmethod
    def items(events: list[str]) -> Iterator[int | Wait]:
        """Yield 0 and 1, then WAIT until a result was handed over, then 2; note each drawn."""
        for item in (0, 1):
            events.append(f"drew {item}")
            yield item
        while not any(event.startswith("got") for event in events):
            events.append("drew WAIT")
            yield WAIT
        events.append("drew 2")
        yield 2

    def test_bounded_map_hands_a_result_over_before_drawing_on(self) -> None:
        """After a WAIT, the next item is drawn only once a result has reached the consumer."""
        events: list[str] = []
        with ThreadPoolExecutor(4) as pool:
            for result in bounded_map(pool, lambda x: x, self.items(events), window=4):
                events.append(f"got {result}")
        assert events.index("drew WAIT") < events.index("got 0") < events.index("drew 2")
        assert sorted(e for e in events if e.startswith("got")) == ["got 0", "got 1", "got 2"]

    def test_abounded_map_hands_a_result_over_before_drawing_on(self) -> None:
        """The async twin pauses at a WAIT until a call finished and its result was handed over."""
        events: list[str] = []

        async def echo(item: int, lane: int) -> int:
            await asyncio.sleep(0.01)
            return item

        async def collect() -> None:
            async for result in abounded_map(echo, self.items(events), [0, 1, 2, 3]):
                events.append(f"got {result}")

        asyncio.run(collect())
        assert events.index("drew WAIT") < events.index("got 0") < events.index("drew 2")
        assert sorted(e for e in events if e.startswith("got")) == ["got 0", "got 1", "got 2"]

    def test_a_wait_with_nothing_in_flight_does_not_hang(self) -> None:
        """A WAIT when no call is in flight is passed over, in both twins."""
        with ThreadPoolExecutor(1) as pool:
            assert list(bounded_map(pool, lambda x: x, [WAIT, 1, WAIT], window=2)) == [1]

        async def echo(item: int, lane: int) -> int:
            return item

        async def collect() -> list[int]:
            return [r async for r in abounded_map(echo, [WAIT, 1, WAIT], [0])]

        assert asyncio.run(collect()) == [1]


class TestIterateInThread:
    """An async iterator run on a loop in a helper thread, consumed here."""

    def test_items_in_order_and_the_thread_ends(self) -> None:
        """Every item arrives in order in the calling thread; the loop's thread is gone after."""

        async def numbers() -> AsyncIterator[int]:
            for x in range(100):
                await asyncio.sleep(0)
                yield x

        assert list(iterate_in_thread(numbers(), window=4)) == list(range(100))
        assert not [t for t in threading.enumerate() if t.name == "event-loop"]

    def test_an_error_on_the_loop_reaches_the_caller(self) -> None:
        """An exception raised on the loop is raised where the items are taken."""

        async def failing() -> AsyncIterator[int]:
            yield 1
            raise ValueError("loop side")

        with pytest.raises(ValueError, match="loop side"):
            list(iterate_in_thread(failing(), window=2))

    def test_the_window_bounds_what_waits(self) -> None:
        """The loop runs at most ``window`` items ahead of the consumer."""
        produced = 0

        async def counting() -> AsyncIterator[int]:
            nonlocal produced
            for x in range(50):
                produced += 1
                yield x

        items = iterate_in_thread(counting(), window=3)
        next(items)
        time.sleep(0.2)
        assert produced <= 1 + 3 + 1
        items.close()

    def test_closing_early_stops_the_loop(self) -> None:
        """Closing the iterator cancels the loop's work and runs its cleanup; the thread ends."""
        cleaned = threading.Event()

        async def endless() -> AsyncIterator[int]:
            try:
                x = 0
                while True:
                    await asyncio.sleep(0)
                    yield x
                    x += 1
            finally:
                cleaned.set()

        items = iterate_in_thread(endless(), window=2)
        assert next(items) == 0
        items.close()
        assert cleaned.is_set()
        assert not [t for t in threading.enumerate() if t.name == "event-loop"]

    def test_runs_while_the_caller_has_a_running_loop(self) -> None:
        """From inside a running loop (a notebook cell) it still works: its loop is its own."""

        async def numbers() -> AsyncIterator[int]:
            for x in range(3):
                yield x

        async def cell() -> list[int]:
            return list(iterate_in_thread(numbers(), window=2))

        assert asyncio.run(cell()) == [0, 1, 2]
