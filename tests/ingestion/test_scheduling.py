"""bounded_map: every item's result, in any completion order, never more than a window pending."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Any

import pytest

from workbench.ingestion import scheduling
from workbench.ingestion.scheduling import bounded_map


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
