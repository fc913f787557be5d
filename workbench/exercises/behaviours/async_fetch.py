"""Exercise 05 · async-fetch: a bounded-concurrency async fetcher.

``await impl.fetch_all(session, urls, *, limit=10, timeout=5.0)`` GETs every URL's JSON
through an ``aiohttp.ClientSession`` with at most ``limit`` requests in flight, each allowed
``timeout`` seconds, and returns one result per URL in the order of ``urls``: the decoded
body, or the exception that URL ended with. Cancelling it cancels every request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

import aiohttp
import pytest

from workbench.errors import SourceTimeoutError
from workbench.exercises.behaviours.support import (
    faster,
    ids,
    posts,
    posts_with_failures,
    run_async,
)
from workbench.exercises.probes import InFlight, aiohttp_tracing
from workbench.local_api import ServerHandle
from workbench.services.common import free_port

hint = pytest.mark.hint

TIMEOUTS = (TimeoutError, SourceTimeoutError)


def session(in_flight: InFlight | None = None) -> aiohttp.ClientSession:
    """A client session (opened on a running loop) whose requests ``in_flight`` counts."""
    traces = [aiohttp_tracing(in_flight)] if in_flight is not None else []
    return aiohttp.ClientSession(trace_configs=traces)


def fetch(impl: Any, urls: Sequence[str], in_flight: InFlight | None = None, **kw: Any) -> Any:
    """Run the answer's fetch_all over ``urls`` in a fresh session and event loop."""

    async def scenario() -> Any:
        async with session(in_flight) as client:
            return await impl.fetch_all(client, list(urls), **kw)

    return run_async(scenario())


async def stop(tasks: set[asyncio.Task[Any]]) -> None:
    """Cancel tasks the answer left running and collect their errors (no log noise later)."""
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.wait(tasks, timeout=2)
    for task in tasks:
        if task.done() and not task.cancelled():
            task.exception()


class TestResults:
    """What comes back."""

    @hint("Store each result at its URL's index: completion order is not the URLs' order.")
    def test_returns_each_body_in_the_order_of_the_urls(self, impl: Any, api: ServerHandle) -> None:
        """Results come back in the order of the URLs, even when later URLs answer first."""
        urls = [f"{api.url}/posts/{i}?_latency_ms={(9 - i) * 25}" for i in range(1, 9)]
        got = ids(fetch(impl, urls, limit=8))
        assert got == list(range(1, 9)), f"results came back as ids {got}"

    @hint("An empty list is a list of no results: return [] without a request.")
    def test_an_empty_list_returns_no_results(self, impl: Any, api: ServerHandle) -> None:
        """No URLs means no results and no request."""
        got = fetch(impl, [], limit=3)
        assert got == [], f"returned {got!r} for no URLs"
        assert api.stats()["requests_total"] == 0, "requests were sent for no URLs"

    @hint("Catch Exception per URL and store it as that URL's result; the others carry on.")
    def test_a_failed_url_is_returned_in_its_place(self, impl: Any, api: ServerHandle) -> None:
        """A URL that answers 500 or refuses to connect yields its exception; the rest succeed."""
        urls = posts_with_failures(api.url, free_port())
        results = fetch(impl, urls, limit=3)
        failed = [isinstance(r, Exception) for r in results]
        assert failed == [False, False, True, True, False, False], f"results: {ids(results)}"


class TestConcurrency:
    """How many requests at once."""

    @hint("A semaphore of `limit` around each request, or exactly `limit` worker tasks.")
    def test_never_more_than_limit_requests_in_flight(self, impl: Any, api: ServerHandle) -> None:
        """With limit=3, three requests run at once, never four."""
        in_flight = InFlight()
        fetch(impl, posts(api.url, 12, latency_ms=80), in_flight, limit=3)
        assert in_flight.started == 12, f"{in_flight.started} requests for 12 URLs"
        assert in_flight.peak == 3, f"{in_flight.peak} requests were in flight at once, limit 3"

    @hint(
        "Start the requests together (tasks, gather or a TaskGroup), not one await after another."
    )
    def test_runs_the_requests_concurrently(
        self, impl: Any, api: ServerHandle, record_property: Callable[[str, Any], None]
    ) -> None:
        """Twelve 100 ms answers with limit=6 come far faster than one request after another."""
        urls = posts(api.url, 12, latency_ms=100)

        async def one_by_one() -> float:
            loop = asyncio.get_running_loop()
            async with session() as client:
                start = loop.time()
                for url in urls:
                    async with client.get(url) as response:
                        await response.json()
                return loop.time() - start

        async def together() -> tuple[Any, float]:
            loop = asyncio.get_running_loop()
            async with session() as client:
                start = loop.time()
                results = await impl.fetch_all(client, urls, limit=6)
                return results, loop.time() - start

        sequential = run_async(one_by_one())
        results, concurrent = run_async(together())
        ratio = faster(record_property, sequential, concurrent, "than one by one")
        assert ids(results) == list(range(1, 13)), f"results: {ids(results)}"
        assert ratio >= 2.5, f"only {ratio:.1f}x faster than one by one (ideal 6x)"


class TestTimeouts:
    """Timeouts."""

    @hint("asyncio.timeout(timeout) (or wait_for) around each request, inside the limit.")
    def test_a_slow_url_times_out_alone(
        self, impl: Any, api: ServerHandle, record_property: Callable[[str, Any], None]
    ) -> None:
        """A URL slower than the timeout yields a timeout error; the other URLs succeed."""
        urls = [*posts(api.url, 5), f"{api.url}/posts/6?_slow_rate=1&_slow_ms=3000"]

        async def scenario() -> tuple[Any, float]:
            loop = asyncio.get_running_loop()
            async with session() as client:
                start = loop.time()
                results = await impl.fetch_all(client, urls, limit=6, timeout=0.3)
                return results, loop.time() - start

        results, elapsed = run_async(scenario())
        record_property("measured", f"returned after {elapsed:.2f} s; the slow answer takes 3 s")
        assert ids(results[:5]) == [1, 2, 3, 4, 5], f"results: {ids(results)}"
        assert isinstance(results[5], TIMEOUTS), (
            f"the slow URL gave {ids(results)[5]!r}, not TimeoutError or SourceTimeoutError"
        )

    @hint("Time each request, not the whole batch: a long list must not time out as a whole.")
    def test_the_timeout_is_per_request_not_for_the_batch(
        self, impl: Any, api: ServerHandle
    ) -> None:
        """Eight 150 ms answers, two at a time, outlast the 0.5 s timeout, yet all succeed."""
        results = fetch(impl, posts(api.url, 8, latency_ms=150), limit=2, timeout=0.5)
        assert ids(results) == list(range(1, 9)), f"results: {ids(results)}"


class TestCancellation:
    """Cancellation."""

    @hint("Let CancelledError through, and cancel (and await) every task you started.")
    def test_cancelling_leaves_nothing_running(self, impl: Any, api: ServerHandle) -> None:
        """Cancelled mid-way, it raises CancelledError and no task or request outlives it."""
        in_flight = InFlight()
        urls = posts(api.url, 20, latency_ms=400)

        async def scenario() -> str:
            async with session(in_flight) as client:
                already = asyncio.all_tasks()
                task = asyncio.create_task(impl.fetch_all(client, urls, limit=5, timeout=5))
                while in_flight.started < 5 and not task.done():
                    await asyncio.sleep(0.01)
                if task.done():
                    task.result()  # it ended before it could be cancelled: raise why
                task.cancel()
                outcome: object
                (outcome,) = await asyncio.gather(task, return_exceptions=True)
                await asyncio.sleep(0.05)  # room for cancelled tasks to finish
                left = asyncio.all_tasks() - already
                sent = api.stats()["requests_total"]
                await asyncio.sleep(0.5)
                sent_later = api.stats()["requests_total"]
                await stop(left)
                if not isinstance(outcome, asyncio.CancelledError):
                    return f"the cancelled fetch_all ended with {outcome!r}, not CancelledError"
                if left:
                    return f"{len(left)} task(s) still running after the cancellation"
                if sent_later > sent:
                    return f"{sent_later - sent} request(s) started after the cancellation"
                return ""

        problem = run_async(scenario())
        assert not problem, problem
