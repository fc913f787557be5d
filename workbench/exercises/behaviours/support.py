"""What the behaviour tests share: guards against code that never returns, and timing."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

__all__ = ["GUARD_S", "Runaway", "call_guarded", "run_async", "speedup", "timed"]

T = TypeVar("T")

#: How long code under test may run before it is judged stuck (not slow: stuck).
GUARD_S = 60.0


class Runaway(BaseException):
    """Stops code under test that keeps calling (``except Exception`` does not catch it)."""


def run_async(coroutine: Coroutine[Any, Any, T], *, guard_s: float = GUARD_S) -> T:
    """Run ``coroutine`` on a fresh event loop; fail if it has not finished after ``guard_s``."""

    async def guarded() -> T:
        try:
            return await asyncio.wait_for(coroutine, guard_s)
        except TimeoutError:
            raise AssertionError(
                f"still running after {guard_s:g} s: something waits forever"
            ) from None

    return asyncio.run(guarded())


def call_guarded(fn: Callable[[], T], *, guard_s: float = GUARD_S) -> T:
    """Call ``fn`` in a helper thread; fail if it has not returned after ``guard_s``."""
    outcome: list[Any] = []

    def target() -> None:
        try:
            outcome.append((True, fn()))
        except BaseException as exc:
            outcome.append((False, exc))

    thread = threading.Thread(target=target, name="behaviour-under-test", daemon=True)
    thread.start()
    thread.join(guard_s)
    if not outcome:
        raise AssertionError(f"did not return within {guard_s:g} s: is something deadlocked?")
    returned, value = outcome[0]
    if not returned:
        raise value
    return value  # type: ignore[no-any-return]


def timed(fn: Callable[[], T]) -> tuple[T, float]:
    """Call ``fn``; return its result and the seconds it took."""
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def speedup(baseline_s: float, measured_s: float) -> float:
    """Return how many times faster ``measured_s`` was than ``baseline_s``."""
    return baseline_s / max(measured_s, 1e-9)
