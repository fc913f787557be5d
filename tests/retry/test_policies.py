"""The pure retry decisions: backoff formula, what is retried, and when to stop."""

from __future__ import annotations

import random

import pytest

from workbench.errors import ClientError, ConfigError, RateLimitedError, ServerError, TransientError
from workbench.retry.policies import Backoff, Decision, RetryCondition, RetryPolicy


class TestBackoff:
    """Backoff.ceiling and Backoff.delay."""

    def test_ceiling_follows_the_formula(self) -> None:
        """ceiling(k) is min(cap, base * factor**(k-1)) for the first attempts."""
        backoff = Backoff(base=0.1, factor=2.0, cap=1.0)
        assert [backoff.ceiling(k) for k in range(1, 7)] == pytest.approx(
            [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]
        )

    def test_huge_attempt_numbers_stay_at_the_cap(self) -> None:
        """An attempt number whose power overflows a float still gives the cap, not an error."""
        assert Backoff(base=0.1, factor=10.0, cap=7.0).ceiling(10_000) == 7.0

    def test_delay_without_jitter_is_the_ceiling(self) -> None:
        """With jitter off, delay(k) equals ceiling(k)."""
        backoff = Backoff(jitter=False)
        assert [backoff.delay(k) for k in (1, 2, 3)] == [backoff.ceiling(k) for k in (1, 2, 3)]

    def test_jittered_delay_uses_the_given_generator(self) -> None:
        """Jitter draws uniform(0, ceiling) from the injected generator."""
        expected = random.Random(3).uniform(0.0, 0.4)
        assert Backoff(rng=random.Random(3)).delay(3) == expected

    @pytest.mark.parametrize("bad", [{"base": -1.0}, {"factor": 0.9}, {"cap": -0.5}])
    def test_rejects_impossible_settings(self, bad: dict[str, float]) -> None:
        """A negative base or cap, or a shrinking factor, is a ConfigError naming the bounds."""
        ((name, value),) = bad.items()
        with pytest.raises(ConfigError) as raised:
            Backoff(**bad)
        assert f"{name}={value!r}" in str(raised.value)
        assert str(raised.value).endswith("expected base >= 0, factor >= 1 and cap >= 0")

    def test_accepts_the_bounds_themselves(self) -> None:
        """A zero base and cap and a factor of one are allowed: a retry without waiting."""
        assert Backoff(base=0.0, factor=1.0, cap=0.0).delay(3) == 0.0


class TestRetryCondition:
    """RetryCondition.build and its test."""

    def test_default_is_transient_errors(self) -> None:
        """By default only TransientError subclasses are retried."""
        condition = RetryCondition.build()
        assert condition.on == (TransientError,)
        assert condition(ServerError("x", status=500))
        assert not condition(ClientError("x", status=400))
        assert not condition(ValueError("x"))

    def test_predicate_alone_sees_every_exception(self) -> None:
        """With only retry_if, any Exception is offered to the predicate."""
        condition = RetryCondition.build(retry_if=lambda exc: isinstance(exc, KeyError))
        assert condition(KeyError("k"))
        assert not condition(ServerError("x", status=500))

    def test_single_class_is_accepted(self) -> None:
        """``on=`` may be one class instead of a tuple."""
        assert RetryCondition.build(on=ValueError).on == (ValueError,)

    @pytest.mark.parametrize("on", [("not a class",), (int,), (ValueError, int)])
    def test_rejects_what_is_not_an_exception_class(self, on: tuple[object, ...]) -> None:
        """Every entry of ``on`` must be an exception class, or the condition is a ConfigError."""
        with pytest.raises(ConfigError, match=r"^retry on=.*: expected exception classes$"):
            RetryCondition(on)  # type: ignore[arg-type]


class TestRetryPolicy:
    """RetryPolicy.decide."""

    def test_retry_with_the_backoff_wait(self) -> None:
        """A transient failure below the limits gets the backoff's wait."""
        policy = RetryPolicy(backoff=Backoff(jitter=False))
        assert policy.decide(ServerError("x", status=503), 2, 0.0) == Decision(0.2, True)

    def test_not_retryable(self) -> None:
        """A permanent error is not retryable, whatever the limits say."""
        decision = policy_decide(ClientError("x", status=404), attempt=1)
        assert decision == Decision(None, False, "ClientError is not retried")

    def test_attempt_limit(self) -> None:
        """The last allowed attempt's failure stops with the limit as the reason."""
        decision = policy_decide(ServerError("x", status=503), attempt=5)
        assert decision == Decision(None, True, "attempt limit 5 reached")

    def test_budget_counts_the_coming_wait(self) -> None:
        """A wait ending exactly at the budget is allowed; one ending after it is not."""
        policy = RetryPolicy(attempts=None, budget=1.0, backoff=Backoff(jitter=False))
        exc = ServerError("x", status=503)
        assert policy.decide(exc, 1, 0.9).wait == pytest.approx(0.1)
        assert policy.decide(exc, 1, 0.95) == Decision(
            None, True, "waiting 0.10 s more would overrun the 1 s budget (0.95 s used)"
        )

    def test_retry_after_raises_the_wait_past_the_cap(self) -> None:
        """A Retry-After longer than the cap is waited in full."""
        policy = RetryPolicy(backoff=Backoff(cap=1.0, jitter=False))
        limited = RateLimitedError("x", status=429, retry_after=12.0)
        assert policy.decide(limited, 1, 0.0).wait == 12.0

    @pytest.mark.parametrize(
        ("bad", "message"),
        [
            ({"attempts": 0}, "retry attempts=0: expected an integer >= 1"),
            ({"attempts": None}, "retry attempts=None, budget=None: expected at least one limit"),
            ({"budget": -1.0}, "retry budget=-1.0: expected seconds >= 0"),
        ],
    )
    def test_rejects_impossible_limits(self, bad: dict[str, float | None], message: str) -> None:
        """No limit at all, zero attempts or a negative budget is a ConfigError saying which."""
        with pytest.raises(ConfigError) as raised:
            RetryPolicy(**bad)  # type: ignore[arg-type]
        assert str(raised.value) == message

    def test_accepts_the_smallest_limits(self) -> None:
        """One attempt, or a zero budget alone, is a valid policy that never retries."""
        exc = ServerError("x", status=503)
        assert RetryPolicy(attempts=1).decide(exc, 1, 0.0).wait is None
        no_budget = RetryPolicy(attempts=None, budget=0.0, backoff=Backoff(jitter=False))
        assert no_budget.decide(exc, 1, 0.0).wait is None


def policy_decide(exc: Exception, *, attempt: int) -> Decision:
    """Ask the default policy (jitter off) about ``exc`` after ``attempt`` attempts."""
    return RetryPolicy(backoff=Backoff(jitter=False)).decide(exc, attempt, 0.0)
