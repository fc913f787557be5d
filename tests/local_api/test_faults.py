from __future__ import annotations

from collections import Counter

import pytest

from workbench.errors import ConfigError
from workbench.local_api.faults import (
    OVERRIDE_PARAMS,
    RATE_FIELDS,
    FaultConfig,
    FaultDecision,
    FaultInjector,
    decide,
)


def kinds(config: FaultConfig, keys: int = 2000) -> Counter[str | None]:
    """Count the fault kinds drawn for the first attempt at ``keys`` distinct keys."""
    return Counter(decide(config, f"/posts?_page={i}", 1).kind for i in range(keys))


class TestFaultConfig:
    """Validating the server-wide settings."""

    def test_defaults_inject_nothing(self) -> None:
        """The default config never faults and adds no delay."""
        assert kinds(FaultConfig(), 200) == Counter({None: 200})
        assert decide(FaultConfig(), "/posts", 1) == FaultDecision()

    @pytest.mark.parametrize(
        ("field", "value", "expected"),
        [
            ("error_rate", 1.5, "error_rate 1.5: expected a number from 0 to 1"),
            ("drop_rate", -0.1, "drop_rate -0.1: expected a number from 0 to 1"),
            ("latency_ms", -1, "latency_ms -1: expected a number >= 0"),
            ("slow_ms", float("nan"), "slow_ms nan: expected a number >= 0"),
            ("retry_after_s", True, "retry_after_s True: expected a number >= 0"),
            ("always_fail", ("",), "always_fail '': expected a non-empty text"),
            ("seed", 1.5, "seed 1.5: expected an integer"),
        ],
    )
    def test_bad_values_name_field_value_and_expectation(
        self, field: str, value: object, expected: str
    ) -> None:
        """Each bad setting raises ConfigError saying which, what it was and what is wanted."""
        with pytest.raises(ConfigError) as caught:
            FaultConfig(**{field: value})  # type: ignore[arg-type]
        assert str(caught.value) == expected

    def test_rates_may_not_exceed_one_together(self) -> None:
        """The fault kinds exclude one another, so their rates add up to at most 1."""
        with pytest.raises(ConfigError, match=r"= 1\.2: expected at most 1"):
            FaultConfig(error_rate=0.6, slow_rate=0.6)
        assert FaultConfig(error_rate=0.5, drop_rate=0.5).error_rate == 0.5

    def test_always_fail_becomes_a_tuple(self) -> None:
        """A list of substrings is stored as a tuple, keeping the config hashable."""
        config = FaultConfig(always_fail=["_page=3&"])  # type: ignore[arg-type]
        assert config.always_fail == ("_page=3&",)
        assert hash(config)

    def test_one_always_fail_text_is_one_pattern(self) -> None:
        """A single text given for ``always_fail`` is one pattern, not one per character."""
        config = FaultConfig(always_fail="/users/2")  # type: ignore[arg-type]
        assert config.always_fail == ("/users/2",)


class TestOverrides:
    """Per-request ``_error_rate``-style parameters."""

    def test_every_numeric_field_has_a_parameter(self) -> None:
        """Each latency, rate and duration setting can be overridden by ``_<field>``."""
        assert set(OVERRIDE_PARAMS) == {
            "_latency_ms",
            "_jitter_ms",
            "_error_rate",
            "_rate_limit_rate",
            "_retry_after_s",
            "_drop_rate",
            "_malformed_rate",
            "_slow_rate",
            "_slow_ms",
        }

    def test_overrides_replace_fields(self) -> None:
        """Parameters replace the matching fields and leave the rest as configured."""
        base = FaultConfig(seed=4, latency_ms=10)
        config = base.with_overrides({"_error_rate": "0.25", "_slow_ms": "7", "userId": "1"})
        assert config == FaultConfig(seed=4, latency_ms=10, error_rate=0.25, slow_ms=7)

    def test_no_overrides_is_the_same_config(self) -> None:
        """A query without fault parameters leaves the config as it is."""
        base = FaultConfig(error_rate=0.1)
        assert base.with_overrides({"_page": "2"}) is base

    @pytest.mark.parametrize(
        ("query", "message"),
        [
            ({"_error_rate": "x"}, "_error_rate 'x': expected a number"),
            ({"_error_rate": "2"}, "_error_rate 2.0: expected a number from 0 to 1"),
            ({"_latency_ms": "-5"}, "_latency_ms -5.0: expected a number >= 0"),
        ],
    )
    def test_bad_overrides_name_the_parameter(self, query: dict[str, str], message: str) -> None:
        """A bad override raises ConfigError naming the query parameter."""
        with pytest.raises(ConfigError) as caught:
            FaultConfig().with_overrides(query)
        assert str(caught.value) == message


class TestDecide:
    """Drawing one request's fate."""

    def test_same_inputs_same_decision(self) -> None:
        """A decision depends only on the config, the key and the attempt."""
        config = FaultConfig(seed=1, error_rate=0.3, jitter_ms=50)
        assert [decide(config, "/posts?_page=2", a) for a in range(1, 20)] == [
            decide(config, "/posts?_page=2", a) for a in range(1, 20)
        ]

    def test_attempts_and_seeds_draw_afresh(self) -> None:
        """Retries of one key, and other seeds, get different draws."""
        config = FaultConfig(seed=1, error_rate=0.5)
        by_attempt = {decide(config, "/posts", a).kind for a in range(1, 30)}
        assert by_attempt == {None, "error"}
        other_seed = FaultConfig(seed=2, error_rate=0.5)
        keys = [f"/posts/{i}" for i in range(50)]
        assert [decide(config, k, 1) for k in keys] != [decide(other_seed, k, 1) for k in keys]

    @pytest.mark.parametrize(
        ("field", "kind", "statuses"),
        [
            ("error_rate", "error", {500, 503}),
            ("rate_limit_rate", "rate_limit", {429}),
            ("drop_rate", "drop", {None}),
            ("malformed_rate", "malformed", {None}),
            ("slow_rate", "slow", {None}),
        ],
    )
    def test_rate_one_always_faults(self, field: str, kind: str, statuses: set[int | None]) -> None:
        """A rate of 1 gives every request that fault, with its status (500 and 503 for errors)."""
        config = FaultConfig(**{field: 1.0})  # type: ignore[arg-type]
        decisions = [decide(config, f"/posts/{i}", 1) for i in range(100)]
        assert {d.kind for d in decisions} == {kind}
        assert {d.status for d in decisions} == statuses

    def test_rates_are_fractions_of_answers(self) -> None:
        """Over many keys each kind's share is near its rate (generous bounds)."""
        config = FaultConfig(error_rate=0.2, drop_rate=0.1, slow_rate=0.3)
        counts = kinds(config, 4000)
        assert 0.15 < counts["error"] / 4000 < 0.25
        assert 0.06 < counts["drop"] / 4000 < 0.14
        assert 0.25 < counts["slow"] / 4000 < 0.35
        assert counts["rate_limit"] == counts["malformed"] == 0

    def test_latency_jitter_and_slowness_add_up(self) -> None:
        """The delay is latency plus a jitter share, plus ``slow_ms`` for a slow answer."""
        config = FaultConfig(latency_ms=100, jitter_ms=50)
        delays = [decide(config, f"/k{i}", 1).delay_s for i in range(200)]
        assert all(0.1 <= d <= 0.15 for d in delays)
        assert len(set(delays)) > 100
        slow = decide(FaultConfig(latency_ms=100, slow_rate=1, slow_ms=900), "/k", 1)
        assert slow.delay_s == pytest.approx(1.0)

    def test_without_rates_jitter_or_patterns_every_answer_gets_the_latency(self) -> None:
        """Nothing to draw: each request gets the latency alone, whatever its seed or attempt."""
        config = FaultConfig(seed=3, latency_ms=40)
        assert not config.any_rate
        decisions = {decide(config, f"/posts?_page={n}", a) for n in range(50) for a in (1, 2)}
        assert decisions == {FaultDecision(0.04)}

    def test_any_rate_tells_whether_a_fault_can_be_drawn(self) -> None:
        """Any one rate above zero makes faults possible."""
        assert [FaultConfig(**{field: 0.1}).any_rate for field in RATE_FIELDS] == [True] * 5  # type: ignore[arg-type]

    def test_always_fail_matches_substrings(self) -> None:
        """A key containing an ``always_fail`` text always gets a 500, on every attempt."""
        config = FaultConfig(always_fail=("_page=3&",))
        hits = {decide(config, "/posts?_page=3&_limit=10", a) for a in range(1, 10)}
        assert hits == {FaultDecision(0.0, "always_fail", 500)}
        assert decide(config, "/posts?_page=30&_limit=10", 1).kind is None


class TestFaultInjector:
    """Per-key attempt counting."""

    def test_retries_of_a_key_count_up(self) -> None:
        """Each request for a key is its next attempt, so retries draw afresh."""
        config = FaultConfig(error_rate=0.5)
        injector = FaultInjector(config)
        drawn = [injector.next_decision("/posts") for _ in range(10)]
        assert drawn == [decide(config, "/posts", a) for a in range(1, 11)]

    def test_keys_count_separately(self) -> None:
        """Interleaving other keys does not change a key's draws."""
        config = FaultConfig(error_rate=0.5)
        injector = FaultInjector(config)
        drawn = []
        for _ in range(5):
            injector.next_decision("/other")
            drawn.append(injector.next_decision("/posts"))
        assert drawn == [decide(config, "/posts", a) for a in range(1, 6)]

    def test_reset_and_configure_restart_the_draws(self) -> None:
        """After reset or a new config the first request is attempt 1 again."""
        injector = FaultInjector(FaultConfig(error_rate=0.5))
        first = [injector.next_decision("/posts") for _ in range(5)]
        injector.reset()
        assert [injector.next_decision("/posts") for _ in range(5)] == first
        new = FaultConfig(error_rate=0.5, seed=9)
        injector.configure(new)
        assert injector.config == new
        assert injector.next_decision("/posts") == decide(new, "/posts", 1)

    def test_a_per_request_config_is_used(self) -> None:
        """A config passed for one request applies to it instead of the server's."""
        injector = FaultInjector(FaultConfig())
        decision = injector.next_decision("/posts", FaultConfig(rate_limit_rate=1))
        assert decision.kind == "rate_limit"
