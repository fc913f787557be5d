"""How each case is measured: one warm-up, ``reps`` timed repetitions, median and spread.

A ``Trial`` knows how to run one case once (untimed set-up first, then the timed part) and
returns a ``Sample``; ``measure`` runs the warm-up and the repetitions; ``summarise`` turns the
samples into a ``Result``: the median and the min/max of the wall time, of the rate (units per
second) and of the peak memory when the trial measured it.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from workbench.bench.scenarios import Case
from workbench.errors import PermanentError

if TYPE_CHECKING:
    from workbench.ingestion.report import RunReport

__all__ = ["IncompleteRunError", "Result", "Sample", "Spread", "Trial", "measure", "summarise"]


class IncompleteRunError(PermanentError):
    """A measured run did not do all its work (failed pages, missing rows): its time is void."""


@dataclass(frozen=True)
class Sample:
    """One timed repetition: how long it took, how many units it handled, its peak memory."""

    seconds: float
    count: int
    peak_mb: float | None = None
    report: RunReport | None = field(default=None, compare=False, repr=False)

    @property
    def rate(self) -> float:
        """Return units per second."""
        return self.count / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class Spread:
    """The median of some measurements and their range."""

    median: float
    minimum: float
    maximum: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        """Return the median, min and max of at least one value."""
        if not values:
            raise ValueError("a spread needs at least one value")
        return cls(statistics.median(values), min(values), max(values))

    @property
    def relative_range(self) -> float:
        """Return (max - min) / median: how noisy the repetitions were."""
        return (self.maximum - self.minimum) / self.median if self.median else 0.0


@dataclass(frozen=True)
class Result:
    """A measured case: its wall time, rate and peak memory as median and spread."""

    case: Case
    seconds: Spread
    rate: Spread
    samples: tuple[float, ...]
    peak_mb: Spread | None = None
    #: The report of the median repetition (in-process ingestion only: for its timeline).
    report: RunReport | None = field(default=None, compare=False, repr=False)

    @property
    def ideal_ratio(self) -> float | None:
        """Return median wall time over the case's ideal, when it has one."""
        ideal = self.case.ideal_seconds
        return self.seconds.median / ideal if ideal else None


class Trial(Protocol):
    """Runs one case: a warm-up, then any number of timed repetitions."""

    def warm_up(self) -> None:
        """Run the case once, small and untimed (connections, caches, imports)."""
        ...

    def run(self) -> Sample:
        """Reset the case's scratch space (untimed), run it once and time it."""
        ...

    def close(self) -> None:
        """Release what the trial holds and clean its scratch space up."""
        ...


def measure(
    trial: Trial, reps: int, *, on_sample: Callable[[Sample], None] | None = None
) -> list[Sample]:
    """Warm the trial up, then run it ``reps`` times; the trial is closed in any case."""
    try:
        trial.warm_up()
        samples = []
        for _ in range(reps):
            sample = trial.run()
            samples.append(sample)
            if on_sample is not None:
                on_sample(sample)
        return samples
    finally:
        trial.close()


def summarise(case: Case, samples: Sequence[Sample]) -> Result:
    """Fold repetitions into a ``Result``; the median repetition's report is kept."""
    if not samples:
        raise ValueError(f"{case.name}: no samples to summarise")
    by_time = sorted(samples, key=lambda sample: sample.seconds)
    peaks = [s.peak_mb for s in samples if s.peak_mb is not None]
    return Result(
        case=case,
        seconds=Spread.of([s.seconds for s in samples]),
        rate=Spread.of([s.rate for s in samples]),
        samples=tuple(s.seconds for s in samples),
        peak_mb=Spread.of(peaks) if peaks else None,
        report=by_time[(len(by_time) - 1) // 2].report,
    )
