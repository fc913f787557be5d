"""Exercise 06 · thread-fetch: a thread-pool fetcher whose shared counters stay correct.

``impl.Counters()`` holds named integer counters threads share: ``add(**counts)`` adds to
several as one step, ``snapshot()`` returns a consistent copy. ``impl.fetch_all(urls, *,
workers=8, timeout=5.0, counters=None)`` GETs every URL's JSON with ``requests`` on a pool of
``workers`` threads, returns each body or exception in URL order, and counts ``requests``,
``ok`` and ``failed`` in ``counters``.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import requests

from workbench.exercises.behaviours.support import (
    call_guarded,
    faster,
    ids,
    posts,
    posts_with_failures,
    timed,
)
from workbench.exercises.fixtures import API_SEED
from workbench.exercises.probes import InFlight
from workbench.local_api import FaultConfig, ServerHandle
from workbench.services.common import free_port

hint = pytest.mark.hint

THREADS, ADDS = 8, 20_000


@contextmanager
def contention() -> Iterator[None]:
    """Make threads switch as often as CPython allows, so unguarded updates collide."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


class Crew:
    """``count`` threads running ``work`` at once; what any of them raised comes out of join."""

    def __init__(self, work: Callable[[], None], count: int = THREADS) -> None:
        self.errors: list[BaseException] = []
        self.threads = [threading.Thread(target=self._run, args=(work,)) for _ in range(count)]
        for thread in self.threads:
            thread.start()

    def _run(self, work: Callable[[], None]) -> None:
        try:
            work()
        except BaseException as exc:  # re-raised by join, in the test's own thread
            self.errors.append(exc)

    def running(self) -> bool:
        """Tell whether any thread is still at work."""
        return any(thread.is_alive() for thread in self.threads)

    def join(self) -> None:
        """Wait for every thread; raise the first error one of them raised."""
        for thread in self.threads:
            thread.join()
        if self.errors:
            raise self.errors[0]


class TestResults:
    """What comes back."""

    @hint("executor.map keeps the input order; or store each future's result at its index.")
    def test_returns_each_body_in_the_order_of_the_urls(self, impl: Any, api: ServerHandle) -> None:
        """Results come back in the order of the URLs, even when later URLs answer first."""
        urls = [f"{api.url}/posts/{i}?_latency_ms={(9 - i) * 25}" for i in range(1, 9)]
        got = ids(call_guarded(lambda: impl.fetch_all(urls, workers=8)))
        assert got == list(range(1, 9)), f"results came back as ids {got}"

    @hint("Catch Exception inside the worker function and return it as that URL's result.")
    def test_a_failed_url_is_returned_in_its_place(self, impl: Any, api: ServerHandle) -> None:
        """A URL that answers 500 or refuses to connect yields its exception; the rest succeed."""
        urls = posts_with_failures(api.url, free_port())
        results = call_guarded(lambda: impl.fetch_all(urls, workers=3))
        failed = [isinstance(r, Exception) for r in results]
        assert failed == [False, False, True, True, False, False], f"results: {ids(results)}"


class TestThreads:
    """The thread pool."""

    @hint("ThreadPoolExecutor(max_workers=workers): at most `workers` requests at once.")
    def test_never_more_than_workers_requests_at_once(
        self, impl: Any, api: ServerHandle, requests_in_flight: InFlight
    ) -> None:
        """With workers=3, three requests run at once, never four."""
        call_guarded(lambda: impl.fetch_all(posts(api.url, 12, latency_ms=80), workers=3))
        peak = requests_in_flight.peak
        assert requests_in_flight.started == 12, f"{requests_in_flight.started} requests for 12"
        assert peak == 3, f"{peak} requests were in flight at once with workers=3"

    @hint("Submit every URL to the pool before waiting for any result.")
    def test_runs_the_requests_concurrently(
        self, impl: Any, api: ServerHandle, record_property: Callable[[str, Any], None]
    ) -> None:
        """Sixteen 100 ms answers on eight threads come far faster than one after another."""
        urls = posts(api.url, 16, latency_ms=100)
        with requests.Session() as session:
            _, sequential = timed(lambda: [session.get(url, timeout=5).json() for url in urls])
        results, concurrent = timed(lambda: call_guarded(lambda: impl.fetch_all(urls, workers=8)))
        ratio = faster(record_property, sequential, concurrent, "than one by one")
        assert ids(results) == list(range(1, 17)), f"results: {ids(results)}"
        assert ratio >= 3, f"only {ratio:.1f}x faster than one by one (ideal 8x)"

    @hint("Use the executor as a context manager (or call shutdown()): its threads then end.")
    def test_leaves_no_thread_running(self, impl: Any, api: ServerHandle) -> None:
        """When fetch_all returns, every thread it started has ended."""
        before = set(threading.enumerate())
        call_guarded(lambda: impl.fetch_all(posts(api.url, 6), workers=4))
        time.sleep(0.05)  # a thread told to stop may take a moment to be gone
        left = [t.name for t in set(threading.enumerate()) - before if t.is_alive()]
        assert not left, f"{len(left)} thread(s) still running after fetch_all returned: {left}"


class TestCounters:
    """The shared counters."""

    @hint("counters.add(requests=1) before each GET; ok=1 or failed=1 after it.")
    def test_counters_match_what_the_server_saw(
        self, impl: Any, api: ServerHandle, record_property: Callable[[str, Any], None]
    ) -> None:
        """requests, ok and failed agree with the server's count and with the results."""
        api.set_faults(FaultConfig(seed=API_SEED, error_rate=0.25))
        counters = impl.Counters()
        results = call_guarded(
            lambda: impl.fetch_all(posts(api.url, 40), workers=8, counters=counters)
        )
        counts, served = counters.snapshot(), api.stats()["requests_total"]
        failures = sum(isinstance(r, Exception) for r in results)
        record_property("measured", f"{counts}; the server answered {served} requests")
        expected = {"requests": served, "ok": 40 - failures, "failed": failures}
        got = {name: counts.get(name, 0) for name in expected}
        assert got == expected, f"counted {got}, expected {expected}"

    @hint("x += n is read, add, write: hold one threading.Lock around every update.")
    def test_no_update_is_lost_under_contention(
        self, impl: Any, record_property: Callable[[str, Any], None]
    ) -> None:
        """Eight threads adding 20,000 times each, switching as often as possible, lose nothing."""
        counters = impl.Counters()

        def work() -> None:
            for _ in range(ADDS):
                counters.add(requests=1)

        with contention():
            call_guarded(lambda: Crew(work).join())
        total = THREADS * ADDS
        lost = total - counters.snapshot().get("requests", 0)
        record_property("measured", f"{lost:,} of {total:,} updates lost")
        assert lost == 0, f"{lost:,} of {total:,} updates were lost: two threads interleaved"

    @hint("Take the lock for all of add() and for the copy in snapshot(): one step each.")
    def test_a_snapshot_never_sees_half_an_add(self, impl: Any) -> None:
        """While threads add(requests=1, ok=1), every snapshot shows requests equal to ok."""
        counters = impl.Counters()
        torn: list[dict[str, int]] = []

        def work() -> None:
            for _ in range(ADDS // 4):
                counters.add(requests=1, ok=1)

        def watch() -> None:
            writers = Crew(work, count=4)
            while writers.running():
                seen = counters.snapshot()
                if seen.get("requests", 0) != seen.get("ok", 0):
                    torn.append(seen)
            writers.join()

        with contention():
            call_guarded(watch)
        assert not torn, f"{len(torn)} snapshot(s) saw half an add, e.g. {torn[0]}"
        copy = counters.snapshot()
        copy["requests"] = -1
        assert counters.snapshot()["requests"] != -1, "snapshot() returned the live counters"
