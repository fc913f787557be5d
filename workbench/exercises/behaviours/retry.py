"""Exercise 01 · retry: a retry decorator for plain and async functions.

``impl.retry`` is used as ``@retry`` or ``@retry(attempts=..., budget=..., base=..., cap=...,
jitter=..., rng=..., sleep=..., async_sleep=..., clock=...)``; it retries ``TransientError``
with capped exponential backoff and full jitter, honours ``retry_after`` and gives up on
anything else at once.
"""

from __future__ import annotations

import asyncio
import inspect
import random
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
import requests

from workbench.error_mapping import map_aiohttp_errors, map_requests_errors
from workbench.errors import ClientError, RateLimitedError, ServerError
from workbench.exercises.behaviours.support import Runaway, faster, run_async, timed
from workbench.exercises.fixtures import API_SEED
from workbench.local_api import FaultConfig, ServerHandle

hint = pytest.mark.hint

#: Calls after which a scripted function stops the code under test (a retry loop that never ends).
CALL_LIMIT = 50


def server_error(n: int = 0) -> ServerError:
    """A 503, transient."""
    return ServerError(f"HTTP 503 (failure {n})", status=503)


def rate_limited(seconds: float) -> RateLimitedError:
    """A 429 asking for ``seconds`` of patience, transient."""
    return RateLimitedError("HTTP 429", status=429, retry_after=seconds)


class Script:
    """A function that plays its outcomes in turn (exceptions are raised) and counts its calls."""

    def __init__(self, *outcomes: Any) -> None:
        self.outcomes = outcomes
        self.calls = 0
        # What a decorator may read off the function it wraps.
        self.__name__ = self.__qualname__ = "scripted"
        self.__doc__ = "A scripted function."

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Count the call and play the next outcome."""
        self.calls += 1
        if self.calls > CALL_LIMIT:
            raise Runaway(f"called {self.calls} times: the retry loop does not stop")
        outcome = self.outcomes[min(self.calls, len(self.outcomes)) - 1]
        if callable(outcome):
            outcome = outcome(self.calls)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome


def forbidden(seconds: float) -> None:
    """A sync sleep an async retry must never call: it would freeze the event loop."""
    raise AssertionError(f"the async wrapper called the blocking sleep({seconds})")


class TestPlainFunctions:
    """A plain function, retried."""

    @hint("Return fn's result straight away when the first call succeeds; support bare @retry.")
    def test_returns_the_first_success_without_waiting(self, impl: Any) -> None:
        """A first success returns after one call and no wait, as @retry or @retry(...)."""
        script, waits = Script("data"), list[float]()
        assert impl.retry(script)() == "data", "the bare @retry did not return fn's result"
        assert impl.retry(sleep=waits.append)(script)() == "data", "@retry(...) lost the result"
        assert (script.calls, waits) == (2, []), f"{script.calls} calls, waits {waits}"

    @hint("Decorate the wrapper with functools.wraps(fn).")
    def test_keeps_the_name_and_docstring(self, impl: Any) -> None:
        """The wrapper keeps the function's name and docstring (functools.wraps)."""

        def fetch_page() -> str:
            """Fetch one page."""
            return "page"

        wrapped = impl.retry(attempts=2)(fetch_page)
        got = (getattr(wrapped, "__name__", None), getattr(wrapped, "__doc__", None))
        assert got == ("fetch_page", "Fetch one page."), f"the wrapper shows {got}"

    @hint("Loop: call fn; on a TransientError wait and go round again; return on success.")
    def test_retries_transient_errors_until_one_succeeds(self, impl: Any) -> None:
        """Two transient failures then a success return the success, after three calls."""
        script, waits = Script(server_error, server_error, "data"), list[float]()
        result = impl.retry(attempts=5, sleep=waits.append)(script)()
        assert result == "data", f"returned {result!r} instead of the third call's result"
        assert script.calls == 3 and len(waits) == 2, f"{script.calls} calls, {len(waits)} waits"

    @hint("Count attempts, the first included; after the last, re-raise the last error itself.")
    def test_gives_up_after_the_attempt_budget_with_the_last_error(self, impl: Any) -> None:
        """With attempts=4 it calls four times, waits three times, then raises the fourth error."""
        script, waits = Script(server_error), list[float]()
        with pytest.raises(ServerError) as raised:
            impl.retry(attempts=4, sleep=waits.append)(script)()
        assert script.calls == 4, f"called {script.calls} times with attempts=4"
        assert len(waits) == 3, f"waited {len(waits)} times between 4 attempts"
        assert "failure 4" in str(raised.value), f"raised {raised.value!r}, not the last error"

    @hint("Retry only TransientError; let anything else (ClientError, ValueError) out at once.")
    def test_does_not_retry_permanent_errors(self, impl: Any) -> None:
        """A PermanentError, or any error but a TransientError, propagates after one call."""
        for error in (ClientError("HTTP 404", status=404), ValueError("bad input")):
            script, waits = Script(error), list[float]()
            with pytest.raises(type(error)) as raised:
                impl.retry(attempts=5, sleep=waits.append)(script)()
            assert raised.value is error, f"raised {raised.value!r} instead of the original"
            assert (script.calls, waits) == (1, []), (
                f"{type(error).__name__}: {script.calls} calls and waits {waits}; expected 1, []"
            )


class TestWaits:
    """How long it waits between attempts."""

    @hint("After failed attempt k wait min(cap, base * 2 ** (k - 1)); jitter=False skips the draw.")
    def test_waits_grow_exponentially_up_to_the_cap(self, impl: Any) -> None:
        """With jitter off the waits are base, 2*base, 4*base, ... capped at cap."""
        waits: list[float] = []
        retrying = impl.retry(attempts=7, base=0.1, cap=1.0, jitter=False, sleep=waits.append)
        with pytest.raises(ServerError):
            retrying(Script(server_error))()
        expected = [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]
        assert waits == pytest.approx(expected), f"waited {waits}, expected {expected}"

    @hint("Full jitter: wait rng.uniform(0, ceiling), a fresh draw for every wait.")
    def test_full_jitter_draws_each_wait_below_its_ceiling(self, impl: Any) -> None:
        """With jitter on, each wait is drawn anywhere between 0 and its ceiling."""
        waits: list[float] = []
        retrying = impl.retry(
            attempts=4, base=0.1, cap=10.0, rng=random.Random(7), sleep=waits.append
        )
        for _ in range(200):
            with pytest.raises(ServerError):
                retrying(Script(server_error))()
        assert len(waits) == 600, f"{len(waits)} waits for 200 calls of 4 attempts, expected 600"
        for k, ceiling in enumerate([0.1, 0.2, 0.4]):
            drawn = waits[k::3]
            low, high = min(drawn), max(drawn)
            assert low >= 0 and high <= ceiling, f"waits after attempt {k + 1} left [0, {ceiling}]"
            assert low < 0.25 * ceiling and high > 0.75 * ceiling, (
                f"waits after attempt {k + 1} span only {low:.3f}..{high:.3f} of [0, {ceiling}]"
            )

    @hint("Wait max(backoff, exc.retry_after) when the error carries retry_after; no cap on it.")
    def test_retry_after_is_honoured_even_above_the_cap(self, impl: Any) -> None:
        """A 429's retry_after is waited in full, even above the cap, and never shortens a wait."""
        waits: list[float] = []
        script = Script(rate_limited(2.5), server_error, rate_limited(0.05), "data")
        retrying = impl.retry(attempts=5, base=0.1, cap=1.0, jitter=False, sleep=waits.append)
        assert retrying(script)() == "data", "did not return the result after the waits"
        expected = [2.5, 0.2, 0.4]
        assert waits == pytest.approx(expected), f"waited {waits}, expected {expected}"

    @hint("Before sleeping w, give up if (clock() - start) + w > budget; attempts=None: no limit.")
    def test_stops_before_a_wait_would_overrun_the_time_budget(self, impl: Any) -> None:
        """With budget=1.0 it never starts a wait that would end past one second from the start."""
        now, waits = [0.0], []

        def sleep(seconds: float) -> None:
            waits.append(seconds)
            now[0] += seconds

        script = Script(server_error)
        retrying = impl.retry(
            attempts=None, budget=1.0, base=0.3, jitter=False, sleep=sleep, clock=lambda: now[0]
        )
        with pytest.raises(ServerError):
            retrying(script)()
        assert waits == pytest.approx([0.3, 0.6]), f"waited {waits}; 1.2 more would end at 2.1 s"
        assert script.calls == 3, f"called {script.calls} times, expected 3"


class TestAsyncFunctions:
    """An async function, retried."""

    @hint("If inspect.iscoroutinefunction(fn), return an async wrapper that awaits async_sleep.")
    def test_stays_a_coroutine_function_and_awaits_its_waits(self, impl: Any) -> None:
        """Decorating an async def gives an async def that retries with the async sleep."""
        script, waits = Script(server_error, server_error, "data"), []

        async def record(seconds: float) -> None:
            waits.append(seconds)

        async def fetch() -> Any:
            await asyncio.sleep(0)
            return script()

        wrapped = impl.retry(base=0.1, jitter=False, sleep=forbidden, async_sleep=record)(fetch)
        assert inspect.iscoroutinefunction(wrapped), "the wrapper of an async def is not async"
        assert run_async(wrapped()) == "data", "the async wrapper did not return the result"
        assert waits == pytest.approx([0.1, 0.2]), f"awaited waits {waits}, expected [0.1, 0.2]"

    @hint("Sleep with await asyncio.sleep in the async wrapper: time.sleep freezes every task.")
    def test_waits_do_not_block_the_event_loop(
        self, impl: Any, record_property: Callable[[str, Any], None]
    ) -> None:
        """Six retrying coroutines wait side by side, far faster than one after another."""

        def flaky() -> Any:  # the answer's retry wraps it: Any
            script = Script(server_error, server_error, "data")

            async def fetch() -> Any:
                return script()

            return impl.retry(attempts=3, base=0.05, jitter=False)(fetch)

        async def together() -> list[Any]:
            return await asyncio.gather(*(flaky()() for _ in range(6)))

        async def one_by_one() -> list[Any]:
            return [await flaky()() for _ in range(6)]

        _, sequential = timed(lambda: run_async(one_by_one()))
        results, concurrent = timed(lambda: run_async(together()))
        ratio = faster(record_property, sequential, concurrent, "together than one by one")
        assert results == ["data"] * 6, f"gathered {results}"
        assert ratio >= 3, f"only {ratio:.1f}x faster together (ideal 6x): the waits block"


class TestAgainstAFaultyApi:
    """Against the local API, with 5xx, 429 and truncated answers injected."""

    FAULTS: dict[str, Any] = {"error_rate": 0.3, "rate_limit_rate": 0.1, "malformed_rate": 0.05}

    def faulty(self, api: ServerHandle) -> ServerHandle:
        """Inject the faults; every one of them is transient."""
        api.set_faults(FaultConfig(seed=API_SEED, retry_after_s=0.01, **self.FAULTS))
        return api

    def judge(
        self, api: ServerHandle, pages: list[Any], record: Callable[[str, Any], None]
    ) -> None:
        """Every page arrived, and each injected fault cost exactly one more request."""
        stats = api.stats()
        faults = sum(stats["faults"].values())
        record("measured", f"20 pages, {faults} injected faults retried")
        assert all(isinstance(p, list) and len(p) == 10 for p in pages), "a page is missing"
        assert stats["requests_total"] == 20 + faults, (
            f"{stats['requests_total']} requests for 20 pages and {faults} faults"
        )

    @hint("Every fault here is a TransientError (ServerError, RateLimitedError, Malformed...).")
    def test_fetches_every_page_despite_faults(
        self, impl: Any, api: ServerHandle, record_property: Callable[[str, Any], None]
    ) -> None:
        """A requests fetch decorated with retry gets all 20 pages through 45% faulty answers."""
        base = self.faulty(api).url
        with requests.Session() as session:

            @impl.retry(attempts=12, base=0.001, cap=0.01)
            def fetch(page: int) -> Any:
                url = f"{base}/comments?_page={page}&_limit=10"
                with map_requests_errors(url):
                    response = session.get(url, timeout=5)
                    response.raise_for_status()
                    return response.json()

            pages = [fetch(page) for page in range(1, 21)]
        self.judge(api, pages, record_property)

    @hint("The async wrapper must await fn(*args, **kwargs) afresh on every attempt.")
    def test_fetches_every_page_concurrently_despite_faults(
        self, impl: Any, api: ServerHandle, record_property: Callable[[str, Any], None]
    ) -> None:
        """An aiohttp fetch decorated with retry gets all 20 pages at once through the faults."""
        base = self.faulty(api).url

        @impl.retry(attempts=12, base=0.001, cap=0.01)
        async def fetch(session: aiohttp.ClientSession, page: int) -> Any:
            url = f"{base}/comments?_page={page}&_limit=10"
            with map_aiohttp_errors(url):
                async with session.get(url) as response:
                    response.raise_for_status()
                    return await response.json()

        async def fetch_all() -> list[Any]:
            async with aiohttp.ClientSession() as session:
                return await asyncio.gather(*(fetch(session, p) for p in range(1, 21)))

        self.judge(api, run_async(fetch_all()), record_property)
