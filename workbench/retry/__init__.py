"""One retry decorator for plain and async functions: capped exponential backoff, full jitter.

::

    @retry                                    # 5 attempts, TransientError only, from 0.1 s
    def fetch(url: str) -> dict: ...

    @retry(attempts=3, budget=30.0, on=(SourceError,))
    async def fetch_async(session: ClientSession, url: str) -> dict: ...

    fetch.statistics.attempts                 # of the last call in this thread or task
    quick = fetch.retry_with(sleep=lambda seconds: None)    # same settings, no real waiting

Point by point:

* **When to stop.** After ``attempts`` attempts (default 5), and/or when the next wait would
  end more than ``budget`` seconds after the first attempt began (read from ``clock``). A wait
  that would overrun the budget means giving up now, not sleeping first.
* **How long to wait.** After failed attempt *k*: ``min(cap, base * factor**(k-1))``, with
  full jitter (uniform between 0 and that) unless ``jitter=False``; see ``Backoff``.
* **Async.** ``inspect.iscoroutinefunction`` picks the loop, so decorate the ``async def``
  itself (an object with an async ``__call__`` would be treated as a plain function).
* **What to retry.** ``TransientError`` by default. ``on=`` names other classes instead;
  ``retry_if=`` adds a predicate (alone it judges every ``Exception``; with ``on=`` both must
  hold). Anything else stops retrying at once: on the first attempt it propagates untouched,
  after earlier retries it carries the note described under *Giving up*.
* **Retry-After.** When the exception has a ``retry_after`` (seconds), the wait is
  ``max(backoff, retry_after)``. The budget still applies but ``cap`` does not: the server
  knows its own load, and coming back sooner would only earn another 429.
* **Giving up.** The last exception itself is re-raised, with its own type, ``__cause__`` and
  traceback, plus a note (``add_note``) saying how many attempts were made and why retrying
  stopped. There is no generic ``RetryError``.
* **Hooks.** ``before_sleep(state)`` runs before each wait and ``on_giveup(state)`` when
  retrying stops; both get a ``RetryState``. The defaults log to the ``workbench.retry``
  logger, WARNING per retry and ERROR on giving up; pass None to stay quiet.
* **Statistics.** ``wrapper.statistics`` shows the ``CallStatistics`` of the last call made
  in the *current thread or asyncio task*: it lives in a ``ContextVar``, so concurrent calls
  never see each other's numbers (nor does the code around ``asyncio.run`` see a call made
  inside it). ``stats=RetryStats()`` adds every call, from any thread or task, to one total.
* **No real waiting in tests.** ``sleep=``, ``async_sleep=`` and ``clock=`` are injectable,
  and ``wrapper.retry_with(**overrides)`` returns a new wrapper with some settings changed
  (on a method, take it from the class: ``Client.fetch.retry_with(...)``).

Compared with tenacity:

====================================  ====  ==============================================
tenacity                              here  how, or why not
====================================  ====  ==============================================
stop_after_attempt                    yes   ``attempts=``
stop_after_delay                      yes   ``budget=``; stops *before* a wait overruns it
wait_exponential / wait_random_exp.   yes   ``base``, ``factor``, ``cap``; ``jitter=``
retry_if_exception_type               yes   ``on=``
retry_if_exception (a predicate)      yes   ``retry_if=``
before_sleep / after hooks            yes   ``before_sleep=``; ``on_giveup=`` for after
statistics                            yes   per thread/task (ContextVar), plus ``stats=``
retry_with                            yes   keyword overrides of any setting
asyncio support                       yes   the same decorator detects ``async def``
reraise=True                          yes   always: the last exception, with a note
wait/stop combinators (``+``, ``|``)  no    one formula is easier to teach and to test
retry on result values                no    a bad result is an exception in our error tree
Retrying iterator / context manager   no    every call site here is a function call
tornado, trio, curio                  no    the workbench runs on asyncio alone
====================================  ====  ==============================================
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import inspect
import random
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, ParamSpec, Protocol, TypeVar, cast, overload

from workbench.retry.call import CallTracker, Hook, RetryState, log_before_sleep, log_giveup
from workbench.retry.policies import Backoff, RetryCondition, RetryPolicy
from workbench.retry.stats import CallStatistics, RetryStats, StatisticsView

__all__ = [
    "Backoff",
    "CallStatistics",
    "RetryCondition",
    "RetryPolicy",
    "RetryState",
    "RetryStats",
    "Retrying",
    "log_before_sleep",
    "log_giveup",
    "retry",
]

P = ParamSpec("P")
R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)


class Retrying(Protocol[P, R_co]):
    """A function wrapped by ``retry``: called as before, plus statistics and ``retry_with``."""

    statistics: StatisticsView

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R_co:
        """Call the wrapped function, retrying as configured."""
        ...

    def retry_with(self, **overrides: Any) -> Retrying[P, R_co]:
        """Return the same function wrapped again with some settings changed."""
        ...


@dataclass(frozen=True)
class _Options:
    """Every setting of one decorated function, kept whole so ``retry_with`` can change some."""

    attempts: int | None
    budget: float | None
    base: float
    factor: float
    cap: float
    jitter: bool
    rng: random.Random | None
    on: type[BaseException] | tuple[type[BaseException], ...] | None
    retry_if: Callable[[BaseException], bool] | None
    before_sleep: Hook | None
    on_giveup: Hook | None
    sleep: Callable[[float], object]
    async_sleep: Callable[[float], Awaitable[object]]
    clock: Callable[[], float]
    stats: RetryStats | None

    def policy(self) -> RetryPolicy:
        """Build the pure decision object these settings describe (and so validate them)."""
        backoff = Backoff(
            self.base, self.factor, self.cap, self.jitter, self.rng or random.Random()
        )
        condition = RetryCondition.build(self.on, self.retry_if)
        return RetryPolicy(self.attempts, self.budget, backoff, condition)


def _name_of(fn: Callable[..., Any]) -> str:
    """Return the name notes and logs use: a partial's or a callable object's too."""
    inner = getattr(fn, "func", fn)  # functools.partial keeps the function in .func
    return getattr(inner, "__qualname__", None) or type(inner).__qualname__


def _decorate(fn: Callable[P, R], options: _Options) -> Retrying[P, R]:
    """Wrap ``fn`` (plain or ``async def``) in the retry loop these options describe."""
    policy = options.policy()
    name = _name_of(fn)
    current: ContextVar[CallStatistics | None] = ContextVar(f"workbench.retry:{name}", default=None)
    track = functools.partial(
        CallTracker,
        name,
        policy,
        current,
        clock=options.clock,
        before_sleep=options.before_sleep,
        on_giveup=options.on_giveup,
        stats=options.stats,
    )

    # The two loops below differ only in `await`; all bookkeeping is in CallTracker.
    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            with track() as call:
                while True:
                    try:
                        result = await fn(*args, **kwargs)
                    except Exception as exc:
                        wait = call.failed(exc)
                        if wait is None:
                            raise
                    else:
                        call.succeeded()
                        return result
                    # Outside the except block, so the next failure is not chained to this one.
                    await options.async_sleep(wait)
                    call.slept(wait)

    else:

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with track() as call:
                while True:
                    try:
                        result = fn(*args, **kwargs)
                    except Exception as exc:
                        wait = call.failed(exc)
                        if wait is None:
                            raise
                    else:
                        call.succeeded()
                        return result
                    options.sleep(wait)
                    call.slept(wait)

    def retry_with(**overrides: Any) -> Retrying[P, R]:
        """Return ``fn`` wrapped again with the given settings changed (same names as retry)."""
        return _decorate(fn, dataclasses.replace(options, **overrides))

    wrapped = cast(Any, wrapper)
    wrapped.statistics = StatisticsView(current)
    wrapped.retry_with = retry_with
    return cast(Retrying[P, R], wrapped)


@overload
def retry(fn: Callable[P, R], /) -> Retrying[P, R]: ...
@overload
def retry(fn: None = None, /, **settings: Any) -> Callable[[Callable[P, R]], Retrying[P, R]]: ...
# The second overload takes the settings as **settings so it reads short; the implementation
# names each one, which is stricter than the overload says, never looser.
def retry(  # type: ignore[misc]
    fn: Callable[P, R] | None = None,
    /,
    *,
    attempts: int | None = 5,
    budget: float | None = None,
    base: float = 0.1,
    factor: float = 2.0,
    cap: float = 10.0,
    jitter: bool = True,
    rng: random.Random | None = None,
    on: type[BaseException] | tuple[type[BaseException], ...] | None = None,
    retry_if: Callable[[BaseException], bool] | None = None,
    before_sleep: Hook | None = log_before_sleep,
    on_giveup: Hook | None = log_giveup,
    sleep: Callable[[float], object] = time.sleep,
    async_sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    clock: Callable[[], float] = time.monotonic,
    stats: RetryStats | None = None,
) -> Retrying[P, R] | Callable[[Callable[P, R]], Retrying[P, R]]:
    """Retry a plain or async function on transient errors; use as ``@retry`` or ``@retry(...)``.

    Settings are explained in the module docstring. Bad settings raise ``ConfigError`` when
    the function is decorated, not when it is first called.
    """
    options = _Options(
        attempts=attempts,
        budget=budget,
        base=base,
        factor=factor,
        cap=cap,
        jitter=jitter,
        rng=rng,
        on=on,
        retry_if=retry_if,
        before_sleep=before_sleep,
        on_giveup=on_giveup,
        sleep=sleep,
        async_sleep=async_sleep,
        clock=clock,
        stats=stats,
    )
    if fn is None:
        return functools.partial(_decorate, options=options)
    return _decorate(fn, options)
