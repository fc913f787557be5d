"""Targets as data: the project's targets.toml judged by the package's measures."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from workbench.bench.measures import MEASURES, find
from workbench.bench.runner import Result
from workbench.bench.targets import MET, MISSED, NOT_MEASURED, evaluate, load_targets
from workbench.errors import ConfigError
from workbench.ingestion.modes import IN_PROCESS
from workbench.services.common import project_root

RateResult = Callable[..., Result]
TARGETS = load_targets(project_root() / "benchmarks" / "targets.toml")


def outcome(key: str, results: list[Result]) -> tuple[str, float | None]:
    """Return one of the project's targets' status and measured value."""
    judged = {o.key: o for o in evaluate(TARGETS, results)}[key]
    return judged.status, judged.measured


def e2e(rate_result: RateResult, async_rate: float, http: float, db: float) -> list[Result]:
    """Return async end to end and both limits on a 100k load."""
    return [
        rate_result("growth", "async", async_rate, size=100_000, kind="ingest_child"),
        rate_result("limits", "http_limit", http, size=100_000, kind="http_limit"),
        rate_result("limits", "copy_limit", db, size=100_000, kind="copy_limit", unit="rows"),
    ]


class TestEndToEnd:
    """Async against the pipeline limit and against the peer."""

    def test_within_twice_the_slower_limit_is_met(self, rate_result: RateResult) -> None:
        """The limit is the slower of HTTP and DB: 50k/s against a 100k/s DB limit is 2.0x."""
        status, ratio = outcome("e2e_vs_limit", e2e(rate_result, 50_000, 400_000, 100_000))
        assert (status, ratio) == (MET, pytest.approx(2.0))

    def test_slower_than_half_the_limit_is_missed(self, rate_result: RateResult) -> None:
        """40k/s against an HTTP limit of 90k/s (slower than DB) is 2.25x: missed."""
        status, ratio = outcome("e2e_vs_limit", e2e(rate_result, 40_000, 90_000, 100_000))
        assert (status, ratio) == (MISSED, pytest.approx(2.25))

    def million(self, rate_result: RateResult, **rates: float) -> list[Result]:
        """Return every in-process mode at 1M posts (``rates`` by mode, 1,000/s otherwise)."""
        return [
            rate_result("growth", mode, rates.get(mode, 1000), size=1_000_000, kind="ingest_child")
            for mode in IN_PROCESS
        ]

    def test_the_fastest_mode_must_be_five_times_the_peer_at_a_million(
        self, rate_result: RateResult
    ) -> None:
        """The fastest mode at 1M, 5x dlt's rate on the same 1M, is met; a hair less is not."""
        base = self.million(rate_result, async_processes=50_000, async_=1)
        peer = rate_result("limits", "dlt", 10_000, size=1_000_000, kind="peer")
        assert outcome("fastest_vs_peer_1m", [*base, peer]) == (MET, pytest.approx(5.0))
        slow = rate_result("limits", "dlt", 10_010, size=1_000_000, kind="peer")
        assert outcome("fastest_vs_peer_1m", [*base, slow])[0] == MISSED

    def test_the_fastest_mode_against_the_pipeline_limit(self, rate_result: RateResult) -> None:
        """The fastest mode at 1M against the slower limit: 1.4x slower is met, 1.6x is not."""
        limits = e2e(rate_result, 1, 400_000, 84_000)[1:]
        fast = self.million(rate_result, threaded=60_000)
        assert outcome("fastest_vs_limit_1m", [*fast, *limits]) == (MET, pytest.approx(1.4))
        slow = self.million(rate_result, threaded=52_500)
        assert outcome("fastest_vs_limit_1m", [*slow, *limits]) == (MISSED, pytest.approx(1.6))

    def test_without_the_peer_the_target_is_not_measured(self, rate_result: RateResult) -> None:
        """No dlt result: not measured, and the detail says the peer may have been skipped."""
        judged = {o.key: o for o in evaluate(TARGETS, self.million(rate_result))}
        assert judged["fastest_vs_peer_1m"].status == NOT_MEASURED
        assert "skipped" in judged["fastest_vs_peer_1m"].detail

    def test_async_is_compared_on_the_limits_load(self, rate_result: RateResult) -> None:
        """Async at another size than the limits' does not count."""
        results = e2e(rate_result, 50_000, 400_000, 100_000)
        results[0] = rate_result("growth", "async", 50_000, size=1_000_000, kind="ingest_child")
        assert outcome("e2e_vs_limit", results)[0] == NOT_MEASURED


class TestLatency:
    """Async at 50 ms added latency against the ideal."""

    def latency_result(self, rate_result: RateResult, seconds: float) -> Result:
        """Return the latency target's case (500 pages of 10, c=50) taking ``seconds``."""
        load = {"latency_ms": 50.0, "concurrency": 50, "page_size": 10, "size": 5000}
        return rate_result("io", "async", 5000 / seconds, **load)

    @pytest.mark.parametrize(("seconds", "status"), [(0.6, MET), (0.625, MET), (0.7, MISSED)])
    def test_wall_time_over_ideal(
        self, rate_result: RateResult, seconds: float, status: str
    ) -> None:
        """The ideal is 0.5 s: up to 0.625 s (1.25x) is met."""
        got, ratio = outcome("latency", [self.latency_result(rate_result, seconds)])
        assert got == status and ratio == pytest.approx(seconds / 0.5)


class TestRatiosAndAbsolutes:
    """The GIL, upsert, dedup targets."""

    def test_multiprocess_against_sync_on_cpu(self, rate_result: RateResult) -> None:
        """1.7x sync is met, 1.6x is missed."""
        sync = rate_result("cpu", "sync", 1000)
        assert outcome("gil", [sync, rate_result("cpu", "multiprocess", 1700)])[0] == MET
        assert outcome("gil", [sync, rate_result("cpu", "multiprocess", 1600)])[0] == MISSED

    def test_upsert_against_raw_copy_uses_the_new_rows_case(self, rate_result: RateResult) -> None:
        """Half of raw COPY on new rows is met; the update case is not the one judged."""
        results = [
            rate_result("persist", "copy_limit", 100_000, kind="copy_limit", unit="rows"),
            rate_result("persist", "upsert_copy", 50_000, kind="write", unit="rows"),
            rate_result("persist", "upsert_copy", 20_000, kind="write", unit="rows", update=True),
        ]
        judged = {o.key: o for o in evaluate(TARGETS, results)}["upsert_vs_copy"]
        assert (judged.status, judged.measured) == (MET, pytest.approx(0.5))

    @pytest.mark.parametrize(("rate", "status"), [(300_000, MET), (299_000, MISSED)])
    def test_dedup_keys_per_second(self, rate_result: RateResult, rate: float, status: str) -> None:
        """SMISMEMBER batches must reach 300k keys/s."""
        result = rate_result("dedup", "smismember", rate, kind="dedup", unit="keys")
        assert outcome("dedup", [result])[0] == status


class TestQueue:
    """The queue's scaling and its cost per task."""

    def test_two_workers_against_one_at_20_ms(self, rate_result: RateResult) -> None:
        """1.7x one worker at 20 ms is met, 1.6x missed; other latencies are not judged."""
        one = rate_result("queue", "queue", 400, workers=1, latency_ms=20.0)
        fast = rate_result("queue", "queue", 9_000, workers=2, latency_ms=0.0)
        for rate, status in ((680, MET), (640, MISSED)):
            two = rate_result("queue", "queue", rate, workers=2, latency_ms=20.0)
            judged, ratio = outcome("queue_scaling", [one, fast, two])
            assert (judged, ratio) == (status, pytest.approx(rate / 400))

    def test_the_cost_per_task_is_the_inverse_rate_in_ms(self, rate_result: RateResult) -> None:
        """4,000 tasks/s is 0.25 ms a task (met); 1,000 tasks/s is 1 ms (missed)."""
        for rate, status in ((4_000, MET), (1_000, MISSED)):
            result = rate_result("queue", "overhead", rate, kind="queue_overhead", unit="tasks")
            assert outcome("queue_overhead", [result]) == (status, pytest.approx(1000 / rate))


class TestGrowth:
    """Memory and time per record at the largest size."""

    def growth(self, rate_result: RateResult, large_rate: float, peak: float) -> list[Result]:
        """Every in-process mode at 100k (10k/s) and 1M (``large_rate``, ``peak`` MB)."""
        found = []
        for mode in IN_PROCESS:
            found.append(rate_result("growth", mode, 10_000, size=100_000, peak_mb=100.0))
            found.append(rate_result("growth", mode, large_rate, size=1_000_000, peak_mb=peak))
        return found

    def test_flat_time_and_small_memory_are_met(self, rate_result: RateResult) -> None:
        """The same rate at 1M as at 100k and 200 MB: both growth targets met."""
        results = self.growth(rate_result, 10_000, 200.0)
        assert outcome("growth_linear", results) == (MET, pytest.approx(1.0))
        assert outcome("growth_memory", results) == (MET, pytest.approx(200.0))

    def test_slower_per_record_or_too_much_memory_is_missed(self, rate_result: RateResult) -> None:
        """25% more time per record and 301 MB are both missed."""
        results = self.growth(rate_result, 8_000, 301.0)
        assert outcome("growth_linear", results) == (MISSED, pytest.approx(1.25))
        assert outcome("growth_memory", results)[0] == MISSED

    def test_a_missing_mode_means_not_measured(self, rate_result: RateResult) -> None:
        """Growth without every mode at both sizes is not measured."""
        results = self.growth(rate_result, 10_000, 200.0)[:-1]
        assert outcome("growth_linear", results)[0] == NOT_MEASURED


class TestEvaluate:
    """All targets at once."""

    def test_nothing_measured_means_every_target_not_measured(self) -> None:
        """With no results no target is met by default."""
        outcomes = evaluate(TARGETS, [])
        assert [o.key for o in outcomes] == [target.key for target in TARGETS]
        assert {o.status for o in outcomes} == {NOT_MEASURED}

    def test_every_project_target_names_a_measure_and_says_what_limits_it(self) -> None:
        """The project's targets file loads; each target is explained for when it is missed."""
        assert len(TARGETS) >= 8
        assert all(t.measure in MEASURES and t.limits and t.needs for t in TARGETS)
        assert len({t.key for t in TARGETS}) == len(TARGETS)


class TestTargetsFile:
    """Reading targets from TOML."""

    def test_a_target_needs_a_known_measure_and_one_bound(self, tmp_path: Path) -> None:
        """An unknown measure or a missing bound is a ConfigError naming the target."""
        path = tmp_path / "t.toml"
        path.write_text('[[targets]]\nkey = "x"\nmeasure = "nope"\nat_most = 1\n')
        with pytest.raises(ConfigError, match="target 'x': unknown measure 'nope'"):
            load_targets(path)
        path.write_text('[[targets]]\nkey = "y"\nmeasure = "rate"\n')
        with pytest.raises(ConfigError, match="exactly one of at_most, at_least"):
            load_targets(path)

    def test_bounds_and_units_are_shown_as_written(self, tmp_path: Path) -> None:
        """A ratio bound shows as ``<= 2.00x``, an absolute one with its unit."""
        path = tmp_path / "t.toml"
        path.write_text(
            '[[targets]]\nkey = "a"\nmeasure = "rate"\nat_most = 2\n'
            '[[targets]]\nkey = "b"\nmeasure = "rate"\nat_least = 300000\nunit = "keys/s"\n'
        )
        assert [t.bound_text for t in load_targets(path)] == ["<= 2.00x", ">= 300,000 keys/s"]

    def test_find_matches_case_fields(self, rate_result: RateResult) -> None:
        """The result whose case has the asked fields is found."""
        a, b = (
            rate_result("io", "async", 1, latency_ms=0.0),
            rate_result("io", "async", 2, latency_ms=20.0),
        )
        assert find([a, b], "io", "async", latency_ms=20.0) is b
        assert find([a, b], "io", "sync") is None
