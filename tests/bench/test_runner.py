from __future__ import annotations

import pytest

from workbench.bench.runner import Sample, Spread, measure, summarise
from workbench.bench.scenarios import Case

CASE = Case("io", "ingest", "async", 1000, latency_ms=20, concurrency=10, page_size=10)


class FakeTrial:
    """A trial whose repetitions take the given seconds, recording what was called."""

    def __init__(self, seconds: list[float], fail_at: int | None = None) -> None:
        self.seconds = list(seconds)
        self.fail_at = fail_at
        self.calls: list[str] = []

    def warm_up(self) -> None:
        """Record the warm-up."""
        self.calls.append("warm_up")

    def run(self) -> Sample:
        """Return the next repetition's sample (or fail at the chosen one)."""
        self.calls.append("run")
        if self.calls.count("run") == self.fail_at:
            raise RuntimeError("boom")
        return Sample(self.seconds.pop(0), 1000)

    def close(self) -> None:
        """Record the close."""
        self.calls.append("close")


class TestSpread:
    """Median and range."""

    def test_odd_count_median_is_the_middle_value(self) -> None:
        """Three values: the middle one is the median; min and max are the ends."""
        assert Spread.of([3.0, 1.0, 2.0]) == Spread(2.0, 1.0, 3.0)

    def test_even_count_median_is_the_mean_of_the_middle_two(self) -> None:
        """Four values: the median is halfway between the middle two."""
        assert Spread.of([4.0, 1.0, 2.0, 3.0]).median == 2.5

    def test_median_lies_within_the_range(self) -> None:
        """Whatever the values, min <= median <= max."""
        spread = Spread.of([0.3, 9.0, 0.1, 0.2, 5.0])
        assert spread.minimum <= spread.median <= spread.maximum

    def test_relative_range(self) -> None:
        """The relative range is (max - min) / median."""
        assert Spread.of([1.0, 2.0, 4.0]).relative_range == pytest.approx(1.5)

    def test_no_values_is_an_error(self) -> None:
        """A spread of nothing is refused."""
        with pytest.raises(ValueError, match="at least one"):
            Spread.of([])


class TestMeasure:
    """The warm-up and repetitions loop."""

    def test_warm_up_once_then_reps_then_close(self) -> None:
        """One warm-up, exactly ``reps`` runs, then close; each sample is reported."""
        trial, seen = FakeTrial([1.0, 2.0, 3.0]), []
        samples = measure(trial, 3, on_sample=seen.append)
        assert trial.calls == ["warm_up", "run", "run", "run", "close"]
        assert [s.seconds for s in samples] == [1.0, 2.0, 3.0] == [s.seconds for s in seen]

    def test_the_trial_is_closed_when_a_repetition_fails(self) -> None:
        """A failing repetition propagates and the trial is still closed."""
        trial = FakeTrial([1.0, 2.0, 3.0], fail_at=2)
        with pytest.raises(RuntimeError, match="boom"):
            measure(trial, 3)
        assert trial.calls[-1] == "close"


class TestSummarise:
    """Samples folded into a result."""

    def test_seconds_and_rates_are_medians_with_their_range(self) -> None:
        """Wall time and rate each get the median and the min/max of the repetitions."""
        result = summarise(CASE, [Sample(2.0, 1000), Sample(1.0, 1000), Sample(4.0, 1000)])
        assert result.seconds == Spread(2.0, 1.0, 4.0)
        assert result.rate == Spread(500.0, 250.0, 1000.0)
        assert result.samples == (2.0, 1.0, 4.0)
        assert result.peak_mb is None

    def test_the_median_repetitions_report_is_kept(self) -> None:
        """The report kept (for the timeline) is the median repetition's."""
        reports = {s: object() for s in (3.0, 1.0, 2.0)}
        samples = [Sample(s, 10, report=reports[s]) for s in reports]  # type: ignore[arg-type]
        assert summarise(CASE, samples).report is reports[2.0]

    def test_peak_memory_is_summarised_when_measured(self) -> None:
        """Peak memory gets its own median and range."""
        samples = [Sample(1.0, 10, peak_mb=p) for p in (100.0, 120.0, 110.0)]
        assert summarise(CASE, samples).peak_mb == Spread(110.0, 100.0, 120.0)

    def test_ideal_ratio_is_median_wall_over_ideal(self) -> None:
        """A case with an ideal gets median wall time over it (ideal here: 0.2 s)."""
        result = summarise(CASE, [Sample(s, 1000) for s in (2.5, 3.0, 2.0)])
        assert CASE.ideal_seconds == pytest.approx(0.2)
        assert result.ideal_ratio == pytest.approx(2.5 / 0.2)

    def test_no_samples_is_an_error(self) -> None:
        """Summarising nothing is refused with the case's name."""
        with pytest.raises(ValueError, match=CASE.name):
            summarise(CASE, [])
