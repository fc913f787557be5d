"""The retry decorator, driven by a fake clock and fake sleeps so nothing waits for real."""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import random
import threading
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.errors import (
    ClientError,
    ConfigError,
    PermanentError,
    RateLimitedError,
    ServerError,
    SourceTimeoutError,
)
from workbench.retry import RetryState, RetryStats, retry


class FakeTime:
    """A clock that moves only when something sleeps on it (or a test advances it)."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        """Return the fake time."""
        return self.now

    def sleep(self, seconds: float) -> None:
        """Record a wait and move the clock by it."""
        self.sleeps.append(seconds)
        self.now += seconds

    async def async_sleep(self, seconds: float) -> None:
        """Record a wait like ``sleep``, and let other tasks run meanwhile."""
        self.sleep(seconds)
        await asyncio.sleep(0)

    def settings(self) -> dict[str, Any]:
        """Return the decorator settings that put a function on this fake time, jitter off."""
        return {
            "jitter": False,
            "sleep": self.sleep,
            "async_sleep": self.async_sleep,
            "clock": self.clock,
            "before_sleep": None,
            "on_giveup": None,
        }


def server_error(n: int = 0) -> ServerError:
    """Return a fresh 503, numbered so tests can tell attempts apart."""
    return ServerError(f"HTTP 503 #{n}", status=503)


class Script:
    """A function body that raises the given exceptions in turn, then returns ``"ok"``."""

    def __init__(self, failures: Sequence[BaseException], *, work: float = 0.0) -> None:
        self.failures = list(failures)
        self.calls = 0
        self.raised: list[BaseException] = []
        self.work = work
        self.time: FakeTime | None = None

    def step(self) -> str:
        """Run one attempt: spend ``work`` seconds of fake time, then fail or succeed."""
        self.calls += 1
        if self.time is not None:
            self.time.now += self.work
        if self.calls <= len(self.failures):
            exc = self.failures[self.calls - 1]
            self.raised.append(exc)
            raise exc
        return "ok"


def always(exc_factory: Callable[[int], BaseException], n: int = 50) -> list[BaseException]:
    """Return ``n`` distinct exceptions, enough to exhaust any attempt limit used here."""
    return [exc_factory(i) for i in range(n)]


def sync_retrying(script: Script, **settings: Any) -> Callable[[], str]:
    """Decorate the script's step as a plain function."""

    def fetch() -> str:
        return script.step()

    fetch.__qualname__ = "fetch"  # the same name in notes and logs as the async twin
    return retry(**settings)(fetch)


def async_retrying(script: Script, **settings: Any) -> Callable[[], Any]:
    """Decorate the script's step as an ``async def``."""

    async def fetch() -> str:
        await asyncio.sleep(0)
        return script.step()

    fetch.__qualname__ = "fetch"
    return retry(**settings)(fetch)


class TestWaits:
    """How long the decorator waits between attempts."""

    def test_exact_exponential_sequence_without_jitter(self) -> None:
        """With jitter off the waits are base * factor**(k-1): 0.1, 0.2, 0.4, 0.8."""
        fake = FakeTime()
        fetch = sync_retrying(Script(always(server_error)), **fake.settings())
        with pytest.raises(ServerError):
            fetch()
        assert fake.sleeps == pytest.approx([0.1, 0.2, 0.4, 0.8])

    def test_other_base_and_factor(self) -> None:
        """Base and factor are honoured: base 0.5, factor 3 gives 0.5, 1.5, 4.5."""
        fake = FakeTime()
        settings = {**fake.settings(), "base": 0.5, "factor": 3.0, "attempts": 4}
        with pytest.raises(ServerError):
            sync_retrying(Script(always(server_error)), **settings)()
        assert fake.sleeps == pytest.approx([0.5, 1.5, 4.5])

    def test_cap_limits_each_wait(self) -> None:
        """No computed wait exceeds the cap: base 1, factor 3, cap 5 gives 1, 3, 5, 5."""
        fake = FakeTime()
        settings = {**fake.settings(), "base": 1.0, "factor": 3.0, "cap": 5.0}
        with pytest.raises(ServerError):
            sync_retrying(Script(always(server_error)), **settings)()
        assert fake.sleeps == pytest.approx([1.0, 3.0, 5.0, 5.0])

    def test_budget_gives_up_before_a_wait_that_would_overrun_it(self) -> None:
        """Attempts and waits both spend the budget; a wait past it means giving up at once."""
        fake = FakeTime()
        script = Script(always(server_error), work=0.25)
        script.time = fake
        fetch = sync_retrying(script, **fake.settings(), attempts=None, budget=1.0)
        with pytest.raises(ServerError) as caught:
            fetch()
        # 0.25 work, 0.1 wait, 0.25 work, 0.2 wait, 0.25 work = 1.05 s: 0.4 more would overrun.
        assert fake.sleeps == pytest.approx([0.1, 0.2])
        assert script.calls == 3
        assert "budget" in caught.value.__notes__[-1]

    def test_budget_and_attempts_whichever_comes_first(self) -> None:
        """With both limits set, the attempt limit stops a call that the budget would allow."""
        fake = FakeTime()
        script = Script(always(server_error))
        with pytest.raises(ServerError):
            sync_retrying(script, **fake.settings(), attempts=2, budget=100.0)()
        assert script.calls == 2

    def test_jitter_stays_within_zero_and_the_computed_wait(self) -> None:
        """Every jittered wait lies in [0, min(cap, base*factor**(k-1))] and they spread over it."""
        fake = FakeTime()
        settings = {**fake.settings(), "jitter": True, "rng": random.Random(7), "attempts": 7}
        ratios: list[float] = []
        for _ in range(40):
            fake.sleeps.clear()
            with pytest.raises(ServerError):
                sync_retrying(Script(always(server_error)), **settings, cap=2.0)()
            for k, wait in enumerate(fake.sleeps, start=1):
                ceiling = min(2.0, 0.1 * 2.0 ** (k - 1))
                assert 0.0 <= wait <= ceiling
                ratios.append(wait / ceiling)
        # Full jitter covers the whole range, not only its top or bottom.
        assert min(ratios) < 0.1
        assert max(ratios) > 0.9
        assert len(set(ratios)) == len(ratios)

    def test_seeded_jitter_repeats(self) -> None:
        """Two runs with equally seeded generators wait exactly the same."""
        runs = []
        for _ in range(2):
            fake = FakeTime()
            settings = {**fake.settings(), "jitter": True, "rng": random.Random(42)}
            with pytest.raises(ServerError):
                sync_retrying(Script(always(server_error)), **settings)()
            runs.append(fake.sleeps)
        assert runs[0] == runs[1]


class TestRetryAfter:
    """A server's Retry-After against our own backoff."""

    def test_retry_after_beats_a_shorter_backoff(self) -> None:
        """RateLimitedError(retry_after=3) makes the wait 3 s although backoff says 0.1 s."""
        fake = FakeTime()
        limited = RateLimitedError("HTTP 429", status=429, retry_after=3.0)
        assert sync_retrying(Script([limited]), **fake.settings())() == "ok"
        assert fake.sleeps == [3.0]

    def test_backoff_beats_a_shorter_retry_after(self) -> None:
        """The wait is the larger of the two: backoff 0.4 s beats a Retry-After of 0.05 s."""
        fake = FakeTime()
        limited = [RateLimitedError("HTTP 429", status=429, retry_after=0.05) for _ in range(3)]
        assert sync_retrying(Script(limited), **fake.settings())() == "ok"
        assert fake.sleeps == pytest.approx([0.1, 0.2, 0.4])

    def test_retry_after_is_not_capped(self) -> None:
        """The server's word wins over our cap: Retry-After 30 s with cap 1 s waits 30 s."""
        fake = FakeTime()
        limited = RateLimitedError("HTTP 429", status=429, retry_after=30.0)
        assert sync_retrying(Script([limited]), **fake.settings(), cap=1.0)() == "ok"
        assert fake.sleeps == [30.0]

    def test_retry_after_is_limited_by_the_budget(self) -> None:
        """A Retry-After longer than the remaining budget means giving up without waiting."""
        fake = FakeTime()
        script = Script([RateLimitedError("HTTP 429", status=429, retry_after=30.0)])
        with pytest.raises(RateLimitedError):
            sync_retrying(script, **fake.settings(), budget=10.0)()
        assert fake.sleeps == []
        assert script.calls == 1


class TestWhatIsRetried:
    """Which exceptions earn another attempt."""

    def test_permanent_error_is_not_retried(self) -> None:
        """A ClientError (permanent) propagates after one attempt, untouched."""
        fake = FakeTime()
        script = Script([ClientError("HTTP 404", status=404)])
        with pytest.raises(ClientError) as caught:
            sync_retrying(script, **fake.settings())()
        assert script.calls == 1
        assert fake.sleeps == []
        assert not getattr(caught.value, "__notes__", [])

    def test_unmatched_exception_is_not_retried(self) -> None:
        """An exception outside the transient tree (a KeyError) is not retried."""
        script = Script([KeyError("id")])
        with pytest.raises(KeyError):
            sync_retrying(script, **FakeTime().settings())()
        assert script.calls == 1

    def test_on_replaces_the_default_types(self) -> None:
        """``on=`` retries the named types, and then no longer retries TransientError."""
        script = Script([ValueError("flaky"), ValueError("flaky")])
        assert sync_retrying(script, **FakeTime().settings(), on=(ValueError,))() == "ok"
        assert script.calls == 3
        other = Script([server_error()])
        with pytest.raises(ServerError):
            sync_retrying(other, **FakeTime().settings(), on=ValueError)()
        assert other.calls == 1

    def test_retry_if_alone_judges_any_exception(self) -> None:
        """``retry_if=`` alone retries whatever it accepts and nothing else."""
        script = Script([OSError("again"), OSError("again"), OSError("fatal")])

        def again(exc: BaseException) -> bool:
            return "again" in str(exc)

        with pytest.raises(OSError, match="fatal"):
            sync_retrying(script, **FakeTime().settings(), retry_if=again)()
        assert script.calls == 3

    def test_on_and_retry_if_must_both_hold(self) -> None:
        """With both ``on=`` and ``retry_if=``, an exception must match the type and the test."""
        script = Script([server_error(), ServerError("HTTP 501", status=501)])

        def busy(exc: BaseException) -> bool:
            return getattr(exc, "status", None) == 503

        with pytest.raises(ServerError, match="501"):
            sync_retrying(script, **FakeTime().settings(), on=ServerError, retry_if=busy)()
        assert script.calls == 2

    def test_base_exceptions_are_never_retried(self) -> None:
        """KeyboardInterrupt passes straight through even when ``on=BaseException``."""
        script = Script([KeyboardInterrupt()])
        with pytest.raises(KeyboardInterrupt):
            sync_retrying(script, **FakeTime().settings(), on=BaseException)()
        assert script.calls == 1

    def test_any_permanent_error_stops_at_once(self) -> None:
        """Any PermanentError subclass stops after one attempt: the split drives retries."""

        class Gone(PermanentError):
            """A made-up permanent error."""

        script = Script([Gone("gone")])
        with pytest.raises(Gone):
            sync_retrying(script, **FakeTime().settings())()
        assert script.calls == 1


class TestGivingUp:
    """What the caller sees when retrying stops."""

    def test_last_exception_is_reraised_with_its_cause_and_a_note(self) -> None:
        """The caller gets the last attempt's own exception, its __cause__ and a note."""
        failures = []
        for i in range(3):
            try:
                raise ConnectionResetError(f"reset #{i}")
            except ConnectionResetError as low:
                try:
                    raise server_error(i) from low
                except ServerError as exc:
                    failures.append(exc)
        script = Script(failures)
        with pytest.raises(ServerError) as caught:
            sync_retrying(script, **FakeTime().settings(), attempts=3)()
        assert caught.value is script.raised[-1]
        assert isinstance(caught.value.__cause__, ConnectionResetError)
        assert str(caught.value.__cause__) == "reset #2"
        assert caught.value.__notes__ == [
            "workbench.retry: fetch gave up after 3 attempts: attempt limit 3 reached"
        ]

    def test_earlier_attempts_are_not_chained_onto_the_last(self) -> None:
        """The last failure's context is not an earlier attempt's exception."""
        script = Script(always(server_error))
        with pytest.raises(ServerError) as caught:
            sync_retrying(script, **FakeTime().settings(), attempts=3)()
        assert caught.value.__context__ is None

    def test_traceback_reaches_the_raising_line(self) -> None:
        """The re-raised exception's traceback still ends in the function that raised it."""
        with pytest.raises(ServerError) as caught:
            sync_retrying(Script(always(server_error)), **FakeTime().settings(), attempts=2)()
        frames = traceback.extract_tb(caught.value.__traceback__)
        assert frames[-1].name == "step"

    @pytest.mark.parametrize(
        ("settings", "failures", "note"),
        [
            ({"attempts": 1}, 1, "gave up after 1 attempt: attempt limit 1 reached"),
            ({"attempts": 2}, 2, "gave up after 2 attempts: attempt limit 2 reached"),
            (
                {"attempts": None, "budget": 0.05},
                1,
                "gave up after 1 attempt: waiting 0.10 s more would overrun the 0.05 s budget "
                "(0.00 s used)",
            ),
        ],
    )
    def test_the_note_counts_attempts_in_words(
        self, settings: dict[str, Any], failures: int, note: str
    ) -> None:
        """The give-up note says "1 attempt" or "N attempts", whichever limit stopped it."""
        fake = FakeTime()
        script = Script(always(server_error, failures))
        with pytest.raises(ServerError) as caught:
            sync_retrying(script, **fake.settings(), **settings)()
        assert caught.value.__notes__ == [f"workbench.retry: fetch {note}"]

    def test_a_permanent_error_on_the_second_attempt_is_noted(self) -> None:
        """A permanent error right after one retry is noted and reported to the give-up hook."""
        fake, given_up = FakeTime(), []
        script = Script([server_error(), ClientError("HTTP 404", status=404)])
        settings = {**fake.settings(), "on_giveup": given_up.append}
        with pytest.raises(ClientError) as caught:
            sync_retrying(script, **settings)()
        assert caught.value.__notes__ == [
            "workbench.retry: fetch gave up after 2 attempts: ClientError is not retried"
        ]
        assert [state.attempt for state in given_up] == [2]

    def test_permanent_error_after_retries_is_noted(self) -> None:
        """A permanent error after transient ones stops at once and says how many attempts."""
        fake = FakeTime()
        script = Script([server_error(), server_error(), ClientError("HTTP 404", status=404)])
        with pytest.raises(ClientError) as caught:
            sync_retrying(script, **fake.settings())()
        assert script.calls == 3
        assert caught.value.__notes__ == [
            "workbench.retry: fetch gave up after 3 attempts: ClientError is not retried"
        ]


class TestStatistics:
    """Per-call statistics and running totals."""

    def test_after_success(self) -> None:
        """After a call that succeeded on attempt 3, statistics show 3 attempts and 0.3 s slept."""
        fake = FakeTime()
        fetch = sync_retrying(Script([server_error(), server_error()]), **fake.settings())
        assert fetch() == "ok"
        stats = fetch.statistics.get()
        assert stats.attempts == 3
        assert stats.total_sleep == pytest.approx(0.3)
        assert stats.last_wait == pytest.approx(0.2)
        assert stats.succeeded is True
        assert (stats.start_time, stats.end_time) == (100.0, pytest.approx(100.3))
        assert stats.elapsed == pytest.approx(0.3)

    def test_after_failure(self) -> None:
        """After giving up, statistics show every attempt and that the call failed."""
        fake = FakeTime()
        fetch = sync_retrying(Script(always(server_error)), **fake.settings(), attempts=4)
        with pytest.raises(ServerError):
            fetch()
        assert fetch.statistics.attempts == 4
        assert fetch.statistics.succeeded is False
        assert fetch.statistics.total_sleep == pytest.approx(0.7)

    def test_before_any_call(self) -> None:
        """Before the first call in this context the statistics are empty."""
        fetch = sync_retrying(Script([]), **FakeTime().settings())
        assert fetch.statistics.attempts == 0
        assert fetch.statistics.succeeded is None

    def test_stats_object_adds_up_calls(self) -> None:
        """A ``stats=`` RetryStats collects calls, attempts, failures and sleep over calls."""
        fake = FakeTime()
        totals = RetryStats()
        script = Script([server_error(), server_error(), *always(server_error, 5)])
        fetch = sync_retrying(script, **fake.settings(), stats=totals)
        with pytest.raises(ServerError):
            fetch()  # five failures
        fetch()  # two failures, then the script is out of failures
        assert (totals.calls, totals.attempts, totals.failures) == (2, 8, 1)
        assert totals.retries == 6
        assert totals.total_sleep == pytest.approx(1.5 + 0.3)

    def test_concurrent_tasks_keep_separate_statistics(self) -> None:
        """Two interleaved asyncio tasks each read their own call's statistics."""
        fake = FakeTime()
        scripts = {1: Script([server_error()]), 3: Script(always(server_error, 3))}

        async def fetch(failures: int) -> str:
            await asyncio.sleep(0)
            return scripts[failures].step()

        wrapped = retry(**fake.settings())(fetch)

        async def one(failures: int) -> int:
            await wrapped(failures)
            return wrapped.statistics.attempts

        async def both() -> list[int]:
            return await asyncio.gather(one(1), one(3))

        assert asyncio.run(both()) == [2, 4]

    def test_threads_keep_separate_statistics(self) -> None:
        """Two threads calling at once each read their own call's statistics."""
        barrier = threading.Barrier(2)
        failures = {"a": 1, "b": 3}
        counts: dict[str, int] = {"a": 0, "b": 0}

        def fetch(name: str) -> str:
            counts[name] += 1
            if counts[name] == 1:
                barrier.wait(timeout=10)  # both calls are now in flight
            if counts[name] <= failures[name]:
                raise server_error()
            return name

        wrapped = retry(**FakeTime().settings())(fetch)

        def one(name: str) -> int:
            wrapped(name)
            return wrapped.statistics.attempts

        with ThreadPoolExecutor(max_workers=2) as pool:
            assert list(pool.map(one, ["a", "b"])) == [2, 4]


class TestHooks:
    """before_sleep and on_giveup, and the default logging."""

    def test_hooks_receive_the_state(self) -> None:
        """before_sleep sees each failed attempt and its wait; on_giveup sees the last."""
        fake = FakeTime()
        seen: list[RetryState] = []
        given_up: list[RetryState] = []
        script = Script(always(server_error))
        settings = {**fake.settings(), "before_sleep": seen.append, "on_giveup": given_up.append}
        with pytest.raises(ServerError):
            sync_retrying(script, **settings, attempts=3)()
        assert [(s.attempt, s.wait) for s in seen] == [(1, 0.1), (2, pytest.approx(0.2))]
        assert [s.exception for s in seen] == script.raised[:2]
        assert seen[1].total_sleep == pytest.approx(0.1)
        assert seen[1].elapsed == pytest.approx(0.1)
        assert seen[0].fn_name == "fetch"
        [last] = given_up
        assert (last.attempt, last.wait, last.exception) == (3, None, script.raised[2])
        assert last.reason == "attempt limit 3 reached"

    def test_giveup_hook_not_called_on_success(self) -> None:
        """A call that ends in success never calls on_giveup."""
        given_up: list[RetryState] = []
        settings = {**FakeTime().settings(), "on_giveup": given_up.append}
        assert sync_retrying(Script([server_error()]), **settings)() == "ok"
        assert given_up == []

    def test_default_hooks_log_warning_per_retry_and_error_on_giveup(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        """By default each retry logs a WARNING and giving up an ERROR on workbench.retry."""
        fake = FakeTime()
        settings = {
            k: v for k, v in fake.settings().items() if k not in ("before_sleep", "on_giveup")
        }
        with caplog.at_level(logging.WARNING, logger="workbench.retry"), pytest.raises(ServerError):
            sync_retrying(Script(always(server_error)), **settings, attempts=3)()
        records = [(r.name, r.levelno) for r in caplog.records]
        assert records == [
            ("workbench.retry", logging.WARNING),
            ("workbench.retry", logging.WARNING),
            ("workbench.retry", logging.ERROR),
        ]
        first = caplog.records[0].getMessage()
        assert "fetch" in first and "attempt 1" in first and "0.10 s" in first
        assert "HTTP 503 #0" in first
        assert "giving up after 3 attempts" in caplog.records[2].getMessage()


class TestForms:
    """The shapes of function the decorator accepts, and retry_with."""

    def test_bare_decorator_uses_the_defaults(self) -> None:
        """Bare ``@retry`` keeps the name and retries a TransientError with default settings."""
        script = Script([SourceTimeoutError("slow"), SourceTimeoutError("slow")])

        @retry
        def fetch() -> str:
            """Fetch something."""
            return script.step()

        assert fetch.__name__ == "fetch"
        assert fetch.__doc__ == "Fetch something."
        fake = FakeTime()
        assert fetch.retry_with(sleep=fake.sleep, jitter=False)() == "ok"
        assert fake.sleeps == pytest.approx([0.1, 0.2])

    def test_default_waits_are_jittered_and_capped_at_ten_seconds(self) -> None:
        """Bare ``@retry`` draws full jitter by default, and its unjittered waits stop at 10 s."""
        script = Script(always(server_error, 2))

        @retry
        def fetch() -> str:
            """Fetch something."""
            return script.step()

        fake, rng = FakeTime(), random.Random(5)
        assert fetch.retry_with(sleep=fake.sleep, rng=random.Random(5))() == "ok"
        assert fake.sleeps == [rng.uniform(0.0, 0.1), rng.uniform(0.0, 0.2)]

        script.failures, script.calls, fake.sleeps = always(server_error, 8), 0, []
        assert fetch.retry_with(sleep=fake.sleep, jitter=False, attempts=9)() == "ok"
        assert fake.sleeps == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 10.0])

    def test_bare_decorator_on_an_async_function(self) -> None:
        """Bare ``@retry`` on ``async def`` gives a coroutine function."""

        @retry
        async def fetch() -> str:
            return "ok"

        assert inspect.iscoroutinefunction(fetch)
        assert asyncio.run(fetch()) == "ok"

    def test_partials_and_callable_objects(self) -> None:
        """A functools.partial and an object with __call__ are retried, named after their code."""
        fake = FakeTime()

        class Fetcher:
            def __call__(self, script: Script) -> str:
                return script.step()

        def fetch(script: Script, suffix: str) -> str:
            return script.step() + suffix

        named: list[str] = []
        settings = {**fake.settings(), "before_sleep": lambda state: named.append(state.fn_name)}
        for target, expected in [
            (functools.partial(fetch, suffix="!"), "ok!"),
            (Fetcher(), "ok"),
        ]:
            script = Script([SourceTimeoutError("slow")])
            assert retry(**settings)(target)(script) == expected and script.calls == 2
        assert named == [fetch.__qualname__, Fetcher.__qualname__]

    def test_methods(self) -> None:
        """Decorated methods get ``self`` and expose statistics through the bound method."""
        fake = FakeTime()

        class Client:
            def __init__(self) -> None:
                self.script = Script([server_error()])

            @retry(**fake.settings())
            def fetch(self, suffix: str) -> str:
                return self.script.step() + suffix

        client = Client()
        assert client.fetch("!") == "ok!"
        assert client.script.calls == 2
        assert client.fetch.statistics.attempts == 2
        assert Client.fetch.retry_with(attempts=2)(Client(), "?") == "ok?"

    def test_retry_with_changes_only_what_it_names(self) -> None:
        """``retry_with`` makes a new wrapper; the original keeps its settings."""
        fake = FakeTime()
        script = Script(always(server_error))
        fetch = sync_retrying(script, **fake.settings(), attempts=2)
        with pytest.raises(ServerError):
            fetch.retry_with(attempts=4)()
        assert script.calls == 4
        with pytest.raises(ServerError):
            fetch()
        assert script.calls == 6

    def test_retry_with_rejects_unknown_settings(self) -> None:
        """A misspelt override is an error, not silently ignored."""
        with pytest.raises(TypeError):
            sync_retrying(Script([]), **FakeTime().settings()).retry_with(atempts=3)

    @pytest.mark.parametrize(
        "bad",
        [
            {"attempts": 0},
            {"attempts": None, "budget": None},
            {"budget": -1.0},
            {"base": -0.1},
            {"factor": 0.5},
            {"cap": -1.0},
            {"on": ("not a class",)},
        ],
    )
    def test_bad_settings_fail_at_decoration(self, bad: dict[str, Any]) -> None:
        """Impossible settings raise ConfigError when decorating, before any call."""
        with pytest.raises(ConfigError):
            retry(**bad)(lambda: None)


SCRIPTS = {
    "success after two": lambda: [server_error(1), server_error(2)],
    "exhausted": lambda: always(server_error),
    "permanent after one": lambda: [server_error(1), ClientError("HTTP 404", status=404)],
    "retry-after": lambda: [RateLimitedError("429", status=429, retry_after=2.0)],
    "not ours": lambda: [KeyError("x")],
}


class TestSyncAsyncParity:
    """Plain and async functions behave the same under the same script."""

    @pytest.mark.parametrize("name", sorted(SCRIPTS))
    def test_same_waits_attempts_and_outcome(self, name: str) -> None:
        """Same waits, same number of attempts, same result or same final exception and note."""
        outcomes = []
        for make in (sync_retrying, async_retrying):
            fake = FakeTime()
            script = Script(SCRIPTS[name]())
            totals = RetryStats()
            fetch = make(script, **fake.settings(), stats=totals)
            try:
                result = fetch()
                outcome: Any = asyncio.run(result) if inspect.iscoroutine(result) else result
            except Exception as exc:
                assert exc is script.raised[-1]
                outcome = (type(exc), str(exc), getattr(exc, "__notes__", []))
            outcomes.append((outcome, fake.sleeps, script.calls, totals))
        assert outcomes[0] == outcomes[1]


class TestProperties:
    """Limits that hold for any sensible backoff settings."""

    @settings(max_examples=200, deadline=None)
    @given(
        base=st.floats(0.0, 5.0),
        factor=st.floats(1.0, 4.0),
        cap=st.floats(0.0, 30.0),
        attempts=st.integers(1, 12),
        failures=st.integers(0, 20),
        jitter=st.booleans(),
        seed=st.integers(0, 2**32 - 1),
    )
    def test_waits_within_cap_and_attempts_within_limit(
        self,
        base: float,
        factor: float,
        cap: float,
        attempts: int,
        failures: int,
        jitter: bool,
        seed: int,
    ) -> None:
        """Every wait is <= cap, and the attempts are exactly min(failures + 1, attempts)."""
        fake = FakeTime()
        script = Script(always(server_error, failures))
        settings = {**fake.settings(), "jitter": jitter, "rng": random.Random(seed)}
        fetch = sync_retrying(
            script, **settings, base=base, factor=factor, cap=cap, attempts=attempts
        )
        try:
            fetch()
        except ServerError:
            assert failures >= attempts
        else:
            assert failures < attempts
        assert script.calls == min(failures + 1, attempts) <= attempts
        assert len(fake.sleeps) == script.calls - 1
        assert all(0.0 <= wait <= cap for wait in fake.sleeps)
        if not jitter:
            expected = [min(cap, base * factor**k) for k in range(len(fake.sleeps))]
            assert fake.sleeps == pytest.approx(expected)
