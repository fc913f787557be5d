"""What the behaviour tests share: guards against code that never returns, and timing."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

__all__ = [
    "GUARD_S",
    "Runaway",
    "call_guarded",
    "faster",
    "ids",
    "posts",
    "posts_with_failures",
    "run_async",
    "speedup",
    "timed",
]

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


def faster(
    record: Callable[[str, Any], None], baseline_s: float, measured_s: float, than: str
) -> float:
    """Record ``5.8x faster than <than> (0.21 s vs 1.22 s)`` as the measured figure; return 5.8."""
    ratio = speedup(baseline_s, measured_s)
    record("measured", f"{ratio:.1f}x faster {than} ({measured_s:.3f} s vs {baseline_s:.3f} s)")
    return ratio


def posts(base_url: str, count: int, latency_ms: float = 0.0) -> list[str]:
    """The local API's URLs of posts 1..count, each answered after ``latency_ms``."""
    return [f"{base_url}/posts/{i}?_latency_ms={latency_ms:g}" for i in range(1, count + 1)]


def posts_with_failures(base_url: str, closed_port: int) -> list[str]:
    """Six post URLs of which the third answers 500 and the fourth refuses to connect."""
    return [
        *posts(base_url, 2),
        f"{base_url}/posts/3?_error_rate=1",
        f"http://127.0.0.1:{closed_port}/posts/4",
        *posts(base_url, 6)[4:],
    ]


def ids(results: list[Any]) -> list[Any]:
    """The post ids of the results, or the exception type where a URL failed."""
    return [r.get("id") if isinstance(r, dict) else type(r).__name__ for r in results]
